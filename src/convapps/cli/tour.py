"""``convapps tour``: the main job of ``make run`` on embedded defaults."""

from __future__ import annotations

import click

from convapps.cli.nd import render_stack
from convapps.core.shapes import ConvLayer, TensorShape, layer_stack

LECTURE_STACKS: tuple[tuple[str, str, tuple[ConvLayer, ...]], ...] = (
    (
        "1D: an EKG signal, 16 then 32 filters of size 5",
        "14x1",
        (ConvLayer(filters=16, kernel=5), ConvLayer(filters=32, kernel=5)),
    ),
    (
        "3D: a CT volume, 16 then 32 filters 5x5x5",
        "14x14x14x1",
        (ConvLayer(filters=16, kernel=5), ConvLayer(filters=32, kernel=5)),
    ),
    ("3D: 32 filters 3x3x3, stride 1, no padding", "32x32x32x16", (ConvLayer(filters=32, kernel=3),)),
    ("3D: 16 filters 4x4x4, stride 2, no padding", "64x64x64x3", (ConvLayer(filters=16, kernel=4, stride=2),)),
)


def shape_tour() -> None:
    """Print the conv arithmetic of the lecture's 1D and 3D examples."""
    click.secho("== Conv arithmetic: output = floor((n + 2p - f) / s) + 1, channels = filters ==", bold=True)
    for title, text, layers in LECTURE_STACKS:
        shape = TensorShape.parse(text)
        click.echo(f"\n-- {title}")
        click.echo(render_stack(shape, layer_stack(shape, layers)))


def face_tour() -> None:
    """Detect and verify faces on images shipped with scikit-image and matplotlib (no download)."""
    import os

    import matplotlib
    import numpy as np
    from skimage import data

    from convapps.face.pipeline import default_pipeline
    from convapps.face.verification import verify
    from convapps.io.images import load_image

    click.secho("\n== Face verification: d(img1, img2) = ||f(img1) - f(img2)||^2 <= tau ==", bold=True)
    astronaut = data.astronaut()
    hopper = load_image(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg"))
    faces = default_pipeline().detect(astronaut)
    left, top, right, bottom = faces[0].box
    click.echo(f"astronaut (skimage): {len(faces)} face, box (left, top, right, bottom) = {faces[0].box}")
    mirrored_crop = np.ascontiguousarray(
        astronaut[max(0, top - 80) : bottom + 80, max(0, left - 80) : right + 80, :][:, ::-1]
    )
    for title, other in (
        ("a mirrored close crop of the astronaut", mirrored_crop),
        ("Grace Hopper (matplotlib)", hopper),
    ):
        r = verify(astronaut, other)
        verdict = "SAME person" if r.same else "DIFFERENT people"
        click.echo(f"astronaut vs {title}: d = {r.distance:.3f}, tau = {r.tau:.3f} -> {verdict}")


def style_tour() -> None:
    """Neural style transfer at preview size: skimage's astronaut painted with a built-in swirl texture."""
    from pathlib import Path

    from skimage import data

    from convapps.io.images import save_image
    from convapps.style.config import preset
    from convapps.style.samples import swirl_painting
    from convapps.style.transfer import stylize

    click.secho("\n== Neural style transfer: J(G) = alpha J_content(C, G) + beta J_style(S, G) ==", bold=True)
    config = preset("preview").replace(size=192, iterations=(60,))
    result = stylize(data.astronaut(), [swirl_painting(192)], config)
    out = Path("out") / "tour_style_astronaut.png"
    save_image(result.image, out)
    click.echo(
        f"astronaut (skimage) x swirl texture, {config.size} px, {config.init} start: "
        f"J_style {result.initial.style:.3g} -> "
        f"{result.final.style:.3g}, J_content {result.final.content:.3g}, {result.seconds:.0f} s; wrote {out}"
    )


def viz_tour() -> None:
    """What ConvNets learn: top-9 patches of 3 VGG16 units per layer over the package-shipped photos."""
    from pathlib import Path

    from convapps.viz.samples import package_images
    from convapps.viz.top_patch_run import TopPatchesConfig, top_patches

    click.secho("\n== What ConvNets learn: the 9 image patches that most activate a unit, layers 1-5 ==", bold=True)
    report = top_patches(package_images(), Path("out") / "tour_viz", config=TopPatchesConfig(units="top:3"))
    click.echo(f"VGG16 over {report.images_used} photos shipped with scikit-image and matplotlib:")
    for layer in report.layers:
        units = ", ".join(f"{u.unit} (best {u.patches[0].value:.0f})" for u in layer.units)
        click.echo(f"  {layer.layer.label:<18} receptive field {layer.field.rows.size:>3} px: units {units}")
    click.echo(f"wrote {report.html}")


def nd_tour() -> None:
    """1D and 3D ConvNets: pydicom's shipped 12-lead ECG through the 1D net, layer by layer."""
    from pathlib import Path

    import pydicom

    from convapps.cli.nd_models import render_model_shapes
    from convapps.io.signals import read_dicom_ecg
    from convapps.nd.model_shapes import model_layer_shapes
    from convapps.nn.conv1d import convnet1d

    click.secho("\n== ConvNets over 1D signals: a 1D filter slides along time, channels = leads ==", bold=True)
    ecg = read_dicom_ecg(Path(pydicom.__file__).parent / "data" / "test_files" / "waveform_ecg.dcm")
    click.echo(
        f"pydicom's waveform_ecg.dcm: {len(ecg.channels)} leads x {ecg.n_samples} samples at {ecg.fs:.0f} Hz "
        f"({ecg.duration_s:.0f} s); one 1 s window as input:"
    )
    shape = TensorShape(spatial=(int(ecg.fs),), channels=len(ecg.channels))
    rows = model_layer_shapes(convnet1d(in_channels=len(ecg.channels)), shape)
    click.echo(render_model_shapes("conv1d", shape, rows))


@click.command()
def tour() -> None:
    """A short guided run of convapps on built-in examples (what `make run` does)."""
    shape_tour()
    face_tour()
    style_tour()
    viz_tour()
    nd_tour()
