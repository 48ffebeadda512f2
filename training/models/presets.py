"""Named network sizes.

* ``mg`` - the paper's student: DM-VTON's topology with every MobileNetV2 block an
  ExtraDW UIB (expansion conv kept at t=1, stride on the middle depthwise). At
  512x384: 9,368,900 parameters, 140.07 G thop MACs, 35.91 MiB (paper: 9.36 M,
  140.00 G, 35.88 MB).
* ``mg-lite`` - what trains and runs in real time on a 2-core CPU: 64 pyramid
  channels, depthwise-separable FPN smoothing, bottlenecked flow heads (1x1 then
  3x3), ConvNeXt-like UIBs for downsampling (the depthwise runs on the narrow
  input, not the expanded tensor) and FFN UIBs at constant resolution, which
  measured several times cheaper on CPU than IB/ExtraDW blocks.
* ``mg-mf`` - the ablation's "MF only" row: ``mg`` with DM-VTON's MobileNetV2 U-Net
  generator in place of MFG.
* ``tiny`` - for tests only (seconds per step at 64x48).

Teachers: ``mg`` (pyramids of 256 channels, for distilling the paper student),
``mg-lite`` (64 channels, for distilling ``mg-lite``), ``tiny``. A teacher's
pyramid width must equal its student's: distillation compares the features.
"""
from __future__ import annotations

from .afen import AFENConfig
from .mf import MFConfig
from .mfg import MFGConfig
from .student import StudentConfig
from .teacher import PERSON_CHANNELS, PartAFENConfig, TeacherConfig
from .uib import StageSpec as S


def _lite_mf(in_channels: int = 3, wide: bool = False) -> MFConfig:
    n = 2 if wide else 1
    return MFConfig(
        in_channels=in_channels,
        stem_channels=16,
        stem_stride=1,
        stages=(
            S(24, n, 2, 4, "convnext"),  # H/2
            S(32, n, 2, 4, "convnext"),  # H/4
            S(48, n, 2, 4, "convnext"),  # H/8
            S(64, n, 2, 4, "convnext"),  # H/16
            S(96, n, 2, 4, "convnext"),  # H/32
            S(128, 1, 1, 2, "ffn"),  # top (globally pooled)
        ),
        fpn_channels=64,
        smooth="dwsep",
        share_smooth=False,
    )


def _lite_afen(fpn: int = 64) -> AFENConfig:
    return AFENConfig(fpn_channels=fpn, main_layers=((1, 32), (3, 32), (3, 16)),
                      refine_layers=((1, 32), (3, 32), (3, 16)), corr_levels=4)


def _lite_mfg(in_channels: int = 7) -> MFGConfig:
    return MFGConfig(
        in_channels=in_channels,
        stem_channels=16,
        encoder=(
            S(16, 1, 1, 2, "ffn"),  # H/2 skip
            S(24, 1, 2, 4, "convnext"),  # H/4 skip
            S(32, 1, 2, 4, "convnext"),  # H/8 skip
            S(48, 1, 2, 4, "convnext"),
            S(64, 1, 1, 4, "ffn"),  # H/16 skip
            S(96, 1, 2, 4, "convnext"),
            S(128, 1, 1, 2, "ffn"),  # H/32
        ),
        bottleneck_channels=256,
        decoder_expand=2.0,
        decoder_variant="convnext",
    )


def _tiny_mf(in_channels: int = 3) -> MFConfig:
    return MFConfig(
        in_channels=in_channels, stem_channels=8,
        stages=(S(8, 1, 2, 2, "convnext"), S(8, 1, 2, 2, "ib"), S(16, 1, 2, 2, "extradw"),
                S(16, 1, 2, 2, "convnext"), S(16, 1, 2, 2, "convnext"), S(16, 1, 1, 2, "ffn")),
        fpn_channels=16, smooth="dwsep", share_smooth=False)


def _tiny_mfg(in_channels: int = 7) -> MFGConfig:
    return MFGConfig(
        in_channels=in_channels, stem_channels=8,
        encoder=(S(8, 1, 1, 2, "ffn"), S(8, 1, 2, 2, "convnext"), S(16, 1, 2, 2, "ib"),
                 S(16, 1, 2, 2, "extradw"), S(16, 1, 2, 2, "convnext"), S(16, 1, 1, 2, "ffn")),
        bottleneck_channels=32, decoder_expand=2.0, decoder_variant="convnext")


def _tiny_afen(cls=AFENConfig, **kw):
    # cost volume on the 3 coarsest levels only: each one is ~400 ONNX nodes, and export time is what
    # the tests pay for
    return cls(fpn_channels=16, main_layers=((1, 16), (3, 8)), refine_layers=((1, 16), (3, 8)), corr_levels=3, **kw)


def student(arch: str) -> StudentConfig:
    if arch == "mg":
        return StudentConfig()
    if arch == "mg-mf":
        return StudentConfig(generator="mbv2-unet")
    if arch == "mg-lite":
        return StudentConfig(person_mf=_lite_mf(), garment_mf=_lite_mf(), afen=_lite_afen(), mfg=_lite_mfg())
    if arch == "tiny":
        return StudentConfig(person_mf=_tiny_mf(), garment_mf=_tiny_mf(), afen=_tiny_afen(), mfg=_tiny_mfg())
    raise ValueError(f"unknown student arch {arch!r}")


def teacher(arch: str) -> TeacherConfig:
    gen_in = PERSON_CHANNELS + 4
    if arch == "mg":
        return TeacherConfig()
    if arch == "mg-lite":
        return TeacherConfig(
            person_mf=_lite_mf(PERSON_CHANNELS, wide=True), garment_mf=_lite_mf(wide=True),
            afen=PartAFENConfig(fpn_channels=64, main_layers=((1, 48), (3, 48), (3, 24)),
                                refine_layers=((1, 48), (3, 48), (3, 24)), corr_levels=4),
            mfg=_lite_mfg(gen_in))
    if arch == "tiny":
        return TeacherConfig(person_mf=_tiny_mf(PERSON_CHANNELS), garment_mf=_tiny_mf(),
                             afen=_tiny_afen(PartAFENConfig, parse_channels=8), mfg=_tiny_mfg(gen_in))
    raise ValueError(f"unknown teacher arch {arch!r}")
