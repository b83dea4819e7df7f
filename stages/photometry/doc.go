// Package photometry corrects a fiber photometry recording into a neuromodulator
// level: robust fit of the control (isosbestic) channel to the sensor channel,
// removal of photobleaching, dF/F, zero-phase low-pass filtering, resampling onto
// time bins and normalisation to a level nu(t) in [0, 1].
//
// The order of the steps follows the reference recipe of Akam & Walton's
// photometry_preprocessing (the pyPhotometry authors), which is also what GuPPy and
// most labs do:
//
//  1. low-pass both channels (2nd-order Butterworth, run forwards and backwards so
//     that no delay is introduced);
//  2. remove bleaching from each channel separately: subtract a double-exponential
//     fit (or, as an option, keep only the part above a high-pass cut-off);
//  3. regress the detrended signal on the detrended control (motion and other
//     artefacts shared by both channels): signal ~ a + b control, robustly (IRLS,
//     Tukey bisquare) by default so that a few artefacts seen only in the control
//     channel do not bend the fit;
//  4. subtract the fitted control: corrected = signal_detrended - (a + b control);
//  5. dF/F = corrected / signal bleaching baseline (a fraction, not a percentage);
//  6. the NE level is dF/F mapped linearly so that its low and high robust
//     percentiles (default 2nd and 98th) go to 0 and 1, clipped to [0, 1].
//
// Fitting after detrending (rather than on the raw channels) matters: both channels
// bleach, usually at different rates, and a fit on raw traces would let the bleaching
// trends, not the shared artefacts, decide the slope.
package photometry
