"""Writes the small NWB:HDF5 fixtures of the NWB importer tests (nwb_test.go).

Run with h5py 3.7 / HDF5 1.10.8 (Debian bookworm: apt-get install python3-h5py):

    /usr/bin/python3 make_nwb_fixtures.py

The files mimic how pynwb lays out a Units table and ndx-fiber-photometry
FiberPhotometryResponseSeries (attributes neurodata_type, namespace, description;
datasets data, timestamps or starting_time with a rate attribute;
fiber_photometry_table_region with a `table` object reference). Every value is
written here, so the tests' expected numbers come from this script.
"""
import h5py
import numpy as np


def nwb_root(f):
    f.attrs["neurodata_type"] = "NWBFile"
    f.attrs["namespace"] = "core"
    f.attrs["nwb_version"] = "2.6.0"
    for g in ("acquisition", "analysis", "general", "processing", "stimulus"):
        f.require_group(g)


def typed(obj, ntype, ns="core", description=None):
    obj.attrs["neurodata_type"] = ntype
    obj.attrs["namespace"] = ns
    if description is not None:
        obj.attrs["description"] = description


# Units: 3 units, ids 3, 7, 12; unit 7's spikes are stored out of order (NWB does
# not require per-unit order). spike_times_index is uint8 (cumulative ends).
UNIT_TIMES = [
    [0.5, 1.0, 2.5, 4.0],        # unit 3
    [3.0, 0.25, 1.0, 5.5, 2.0],  # unit 7 (unsorted)
    [0.75, 6.0],                 # unit 12
]


def write_units(path, libver="earliest", chunked=True, group_attrs=True):
    with h5py.File(path, "w", libver=libver) as f:
        if group_attrs:
            nwb_root(f)
        u = f.create_group("units")
        if group_attrs:
            typed(u, "Units", description="units for tests")
            u.attrs["colnames"] = np.array(["spike_times", "quality"], dtype=h5py.string_dtype())
        times = np.concatenate([np.array(t, dtype="<f8") for t in UNIT_TIMES])
        ends = np.cumsum([len(t) for t in UNIT_TIMES]).astype("u1")
        kw = dict(chunks=(4,), compression="gzip", maxshape=(None,)) if chunked else {}
        st = u.create_dataset("spike_times", data=times, **kw)
        typed(st, "VectorData", "hdmf-common", "the spike times for each unit")
        ix = u.create_dataset("spike_times_index", data=ends)
        typed(ix, "VectorIndex", "hdmf-common", "Index for VectorData 'spike_times'")
        ix.attrs["target"] = st.ref
        ids = u.create_dataset("id", data=np.array([3, 7, 12], dtype="<i8"))
        typed(ids, "ElementIdentifiers", "hdmf-common")
        q = u.create_dataset("quality", data=["good", "mua", "good"], dtype=h5py.string_dtype())
        typed(q, "VectorData", "hdmf-common", "curation label")


write_units("units_gzip.nwb")
# libver="latest" (superblock v3, version-2 object headers, version-4 layouts):
# with the root group's attributes, the Go reader cannot even open the file;
# without any group attributes it opens, and spike_times' extensible-array chunk
# index (layout version 4) is what it cannot read.
write_units("units_latest.nwb", libver="latest")
write_units("units_v4chunk.nwb", libver="latest", group_attrs=False)

# units_zstd.nwb: units_gzip.nwb with the deflate filter id (1) of spike_times
# replaced by zstd's registered id (32015), as a file written with hdf5plugin's
# Zstd would declare it. The pipeline message (version 1) starts with
# version=1, nfilters=1, 6 reserved bytes, then the filter id.
raw = bytearray(open("units_gzip.nwb", "rb").read())
pat = bytes([1, 1, 0, 0, 0, 0, 0, 0, 1, 0])
assert raw.count(pat) == 1, raw.count(pat)
i = raw.index(pat) + 8
raw[i:i + 2] = (32015).to_bytes(2, "little")
open("units_zstd.nwb", "wb").write(bytes(raw))

N = 200  # samples per photometry series


def fp_series(parent, name, data, description, **time):
    g = parent.create_group(name)
    typed(g, "FiberPhotometryResponseSeries", "ndx-fiber-photometry", description)
    g.attrs["comments"] = "no comments"
    d = g.create_dataset("data", data=data)
    d.attrs["unit"] = "a.u."
    d.attrs["conversion"] = time.pop("conversion", 1.0)
    d.attrs["offset"] = 0.0
    d.attrs["resolution"] = -1.0
    if "timestamps" in time:
        ts = time["timestamps"]
        if isinstance(ts, str):
            g["timestamps"] = h5py.SoftLink(ts)
        else:
            t = g.create_dataset("timestamps", data=ts)
            t.attrs["interval"] = 1
            t.attrs["unit"] = "seconds"
    else:
        s = g.create_dataset("starting_time", data=time["starting_time"])
        s.attrs["rate"] = time["rate"]
        s.attrs["unit"] = "seconds"
    return g


# fp_table.nwb: neutral names; only the FiberPhotometryTable's
# excitation_wavelength_in_nm column (reached through each series'
# fiber_photometry_table_region) says fp_a is 470 nm and fp_b 405 nm.
# fp_a data are stored at half scale with conversion = 2.
with h5py.File("fp_table.nwb", "w") as f:
    nwb_root(f)
    dev = f.require_group("general/devices")
    e405 = dev.create_group("excitation_405")
    typed(e405, "ExcitationSource", "ndx-fiber-photometry", "LED")
    e405.attrs["excitation_wavelength_in_nm"] = 405.0
    e470 = dev.create_group("excitation_470")
    typed(e470, "ExcitationSource", "ndx-fiber-photometry", "LED")
    e470.attrs["excitation_wavelength_in_nm"] = 470.0
    fp = f.require_group("general/fiber_photometry")
    typed(fp, "FiberPhotometry", "ndx-fiber-photometry")
    tab = fp.create_group("fiber_photometry_table")
    typed(tab, "FiberPhotometryTable", "ndx-fiber-photometry", "fibers")
    tab.create_dataset("id", data=np.array([0, 1], dtype="<i8"))
    tab.create_dataset("location", data=["LC", "LC"], dtype=h5py.string_dtype())
    tab.create_dataset("excitation_wavelength_in_nm", data=np.array([405.0, 470.0]))
    tab.create_dataset("excitation_source", data=[e405.ref, e470.ref], dtype=h5py.ref_dtype)
    acq = f["acquisition"]
    i = np.arange(N)
    a = fp_series(acq, "fp_a", (1.0 + 0.001 * i) / 2, "fluorescence", starting_time=10.0, rate=20.0, conversion=2.0)
    b = fp_series(acq, "fp_b", 0.5 + 0.0005 * i, "fluorescence", starting_time=10.0, rate=20.0)
    for g, row in ((a, 1), (b, 0)):
        r = g.create_dataset("fiber_photometry_table_region", data=np.array([row], dtype="<i8"))
        typed(r, "DynamicTableRegion", "hdmf-common", "fiber")
        r.attrs["table"] = tab.ref

# fp_names.nwb: wavelengths only in the names; the isosbestic series' timestamps
# are a soft link to the sensor's (as pynwb writes timestamps=other_series); a
# red 560 nm series makes "which sensor" ambiguous unless session.yaml says.
with h5py.File("fp_names.nwb", "w") as f:
    nwb_root(f)
    acq = f["acquisition"]
    i = np.arange(N)
    t = 100.0 + 0.05 * i + 0.001 * (i % 3)  # irregular sampling
    fp_series(acq, "GRAB_NE_470nm", 2.0 + 0.01 * np.sin(i / 5), "sensor", timestamps=t)
    fp_series(acq, "isosbestic_405nm", 1.0 + 0.002 * i, "control", timestamps="/acquisition/GRAB_NE_470nm/timestamps")
    fp_series(acq, "tdTomato_560nm", 3.0 + 0 * i, "red", timestamps=t)

# fp_offset.nwb: interleaved excitation: the 405 nm samples fall half-way between
# the 470 nm ones; the control is linear in time, so interpolation is exact.
with h5py.File("fp_offset.nwb", "w") as f:
    nwb_root(f)
    acq = f["acquisition"]
    i = np.arange(N)
    fp_series(acq, "signal", 5.0 + 0 * i, "470 nm excitation", timestamps=0.1 * i)
    tc = 0.1 * i + 0.05
    fp_series(acq, "isosbestic", 1.0 + 2.0 * tc, "405 nm excitation", timestamps=tc)
