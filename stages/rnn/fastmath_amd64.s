#include "textflag.h"

// EXP4 computes Y0 = expFast(Y0) lane-wise. Uses Y1-Y4; expects the constants in
// Y8 = expLo, Y9 = expHi, Y10 = log2e, Y11 = shifter, Y12 = ln2Hi, Y13 = ln2Lo.
// Operand order is Go's: sources first, destination last. VMAXPD/VMINPD take x as
// their last source so that a NaN in x is passed through.
#define EXP4 \
	VMOVAPD Y0, Y4 \
	VMAXPD Y0, Y8, Y0 \
	VMINPD Y0, Y9, Y0 \
	VMOVAPD Y11, Y1 \
	VFMADD231PD Y10, Y0, Y1 \ // z = x*log2e + shifter
	VSUBPD Y11, Y1, Y2 \      // nf = z - shifter
	VFNMADD231PD Y12, Y2, Y0 \ // r = x - nf*ln2Hi
	VFNMADD231PD Y13, Y2, Y0 \ // r -= nf*ln2Lo
	VMOVUPD ·expPoly+0(SB), Y3 \
	VFMADD213PD ·expPoly+32(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+64(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+96(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+128(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+160(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+192(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+224(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+256(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+288(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+320(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+352(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+384(SB), Y0, Y3 \
	VFMADD213PD ·expPoly+416(SB), Y0, Y3 \
	VPSLLQ $52, Y1, Y1 \
	VPADDQ Y1, Y3, Y0 \
	VCMPPD $3, Y4, Y4, Y2 \ // NaN lanes: return x itself, as the scalar code does
	VBLENDVPD Y2, Y4, Y0, Y0

#define LOADCONST \
	VBROADCASTSD ·expConst+0(SB), Y8 \
	VBROADCASTSD ·expConst+8(SB), Y9 \
	VBROADCASTSD ·expConst+16(SB), Y10 \
	VBROADCASTSD ·expConst+24(SB), Y11 \
	VBROADCASTSD ·expConst+32(SB), Y12 \
	VBROADCASTSD ·expConst+40(SB), Y13 \
	VBROADCASTSD ·expConst+48(SB), Y14 \
	VBROADCASTSD ·expConst+56(SB), Y15

// func expRowAVX2(dst, src []float64)
TEXT ·expRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	LOADCONST
	SHRQ $2, CX
	JZ   expdone
exploop:
	VMOVUPD (SI), Y0
	EXP4
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  exploop
expdone:
	VZEROUPPER
	RET

// func tanhRowAVX2(dst, src []float64)
TEXT ·tanhRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	LOADCONST
	VBROADCASTSD ·expConst+64(SB), Y6 // tanhLim
	VBROADCASTSD ·expConst+72(SB), Y7 // -tanhLim
	SHRQ $2, CX
	JZ   tanhdone
tanhloop:
	VMOVUPD (SI), Y0
	VMAXPD Y0, Y7, Y0
	VMINPD Y0, Y6, Y0
	VMULPD Y15, Y0, Y0 // 2x
	EXP4
	VSUBPD Y14, Y0, Y4 // e - 1
	VADDPD Y14, Y0, Y5 // e + 1
	VDIVPD Y5, Y4, Y0
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  tanhloop
tanhdone:
	VZEROUPPER
	RET
