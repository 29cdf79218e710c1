"""``convapps style``: neural style transfer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from convapps.errors import InvalidInputError


@click.group()
def style() -> None:
    """Neural style transfer: generate an image G with the content of C and the style of S.

    Minimises J(G) = alpha J_content(C, G) + beta J_style(S, G) over the pixels of G, with a
    pretrained VGG (VGG19 by default, as in Gatys et al.) whose weights stay fixed.
    """


def _floats(text: str, option: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as err:
        raise InvalidInputError(f"{option}: expected comma-separated numbers, got {text!r}") from err


def _style_layers(text: str) -> tuple[tuple[str, float], ...]:
    layers = []
    for item in text.split(","):
        name, _, weight = item.strip().partition(":")
        try:
            layers.append((name.strip(), float(weight) if weight else 1.0))
        except ValueError as err:
            raise InvalidInputError(f"--style-layers: bad weight in {item!r} (use relu1_1:0.2,...)") from err
    return tuple(layers)


def _overrides(options: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("size", "scales", "optimizer", "init", "init_blend", "content_layer", "alpha", "beta", "seed"):
        if options[key] is not None:
            changes[key] = options[key]
    simple = {
        "lr": "learning_rate",
        "tv_weight": "tv_weight",
        "style_scale": "style_scale",
        "color": "color",
        "pooling": "pooling",
        "snapshot_every": "snapshot_every",
        "threads": "threads",
        "content_normalization": "content_normalization",
        "auto_weights": "auto_weights",
        "precision": "precision",
        "network": "network",
    }
    for key, field in simple.items():
        if options[key] is not None:
            changes[field] = options[key]
    if options["iterations"] is not None:
        changes["iterations"] = tuple(int(v) for v in _floats(options["iterations"], "--iterations"))
    if options["style_layers"] is not None:
        changes["style_layers"] = _style_layers(options["style_layers"])
    if options["style_blend"] is not None:
        changes["style_blend"] = _floats(options["style_blend"], "--style-blend")
    if options["weights"] is not None:
        changes["weights"] = options["weights"]
    return changes


@style.command("transfer")
@click.argument("content", type=click.Path(path_type=Path))
@click.argument("styles", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=Path("out/style.png"),
    show_default=True,
    help="Where to write G (PNG/JPEG); the JSON sidecar goes next to it (same name, .json).",
)
@click.option(
    "--preset",
    type=click.Choice(["preview", "default", "high"]),
    default="default",
    show_default=True,
    help="preview: 256 px, ~25 s; default: 512 px, ~2 min on 2 idle cores with bfloat16; high: 1024 px.",
)
@click.option("--size", type=int, help="Long side of G in pixels.")
@click.option("--scales", type=int, help="Coarse-to-fine levels (1 = full resolution only).")
@click.option("--iterations", help="Steps per scale, coarsest first: '200' or '160,80,25'.")
@click.option("--optimizer", type=click.Choice(["lbfgs", "adam"]), help="L-BFGS (default) or Adam.")
@click.option("--lr", type=float, help="Adam step size (pixels in [0, 1]).")
@click.option(
    "--init",
    type=click.Choice(["noise", "content", "blend", "palette"]),
    help="Start of G: noise (the lecture; use --scales 3), the content photo, a blend, or the photo "
    "recoloured to the painting's palette (default of the preset).",
)
@click.option("--init-blend", type=float, help="For --init blend: share of the content (0-1).")
@click.option("--content-layer", help="Layer l of the content cost (default relu4_2).")
@click.option(
    "--content-normalization",
    type=click.Choice(["lecture", "normalized"]),
    help="lecture: 1/2 ||a(C)-a(G)||^2; normalized: 1/(4 nH nW nC) ||...||^2 (default).",
)
@click.option("--style-layers", help="Style layers with lambda weights: 'relu1_1:0.2,relu2_1:0.2,...'.")
@click.option("--alpha", type=float, help="Content weight alpha.")
@click.option(
    "--strength",
    help="How much painting: weak, normal (default), strong, or a number 0-1 (0.5 = normal; each 0.25 doubles "
    "or halves the style weight).",
)
@click.option(
    "--beta", type=float, help="Style weight beta (larger = more painting, less photo); overrides --strength."
)
@click.option(
    "--auto-weights/--raw-weights",
    default=None,
    help="Scale alpha and each lambda by the size of its target (default on) or use them raw.",
)
@click.option("--tv-weight", type=float, help="Total-variation weight (smoothness).")
@click.option(
    "--color",
    type=click.Choice(["none", "luminance", "histogram"]),
    help="Keep the photo's colours: luminance-only transfer, or recolour the painting first.",
)
@click.option("--style-blend", help="Blend weights of several style images: '0.7,0.3'.")
@click.option("--style-scale", type=float, help="Style image size relative to G (larger = bigger strokes).")
@click.option("--pooling", type=click.Choice(["max", "avg"]), help="Pooling in the network (default max).")
@click.option("--seed", type=int, help="Random seed (same seed, same settings = same image).")
@click.option("--snapshot-every", type=int, help="Also write G every N steps (<out>.s<scale>.<step>.png).")
@click.option(
    "--network",
    type=click.Choice(["vgg19", "vgg16-hed", "vgg19-imagenet", "vgg16"]),
    help="The VGG whose features define the costs: vgg19 (default; the original ImageNet VGG19 of Gatys et al.) "
    "or vgg16-hed (HED's edge fine-tune of VGG16: ~1.3x faster, lighter strokes).",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path),
    help="A torchvision VGG16/VGG19 state dict instead of --network.",
)
@click.option("--threads", type=int, help="torch CPU threads.")
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "bfloat16"]),
    help="Network arithmetic while optimising: auto = bfloat16 where the CPU has it natively "
    "(1.7x faster), else float32. Reported costs are float32.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def transfer(content: Path, styles: tuple[Path, ...], output: Path, preset: str, quiet: bool, **options: Any) -> None:
    """Paint CONTENT (a photo) in the style of one or more STYLE images (paintings).

    \b
    Examples:
      convapps style transfer photo.jpg starry_night.jpg -o out/starry.png
      convapps style transfer photo.jpg a.jpg b.jpg --style-blend 0.7,0.3 --preset preview
      convapps style transfer photo.jpg wave.jpg --color luminance --init content --iterations 100

    Writes the image and a JSON sidecar with every setting, the final costs and the timing.
    """
    from tqdm import tqdm

    from convapps.style.config import preset as get_preset
    from convapps.style.files import stylize_files
    from convapps.style.optimize import StepInfo

    config = get_preset(preset).replace(**_overrides(options))
    if options["strength"] is not None and options["beta"] is None:
        from convapps.style.config import beta_for_strength

        config = config.replace(beta=beta_for_strength(options["strength"], config.beta))
    total = sum(config.steps_per_scale())
    bar = None if quiet else tqdm(total=total, desc="style", unit="step", dynamic_ncols=True)

    def on_step(info: StepInfo) -> None:
        if bar is not None:
            bar.update(1)
            c = info.costs
            bar.set_postfix_str(
                f"scale {info.scale + 1} {info.size[1]}x{info.size[0]} J={c.total:.3g} "
                f"Jc={c.content:.3g} Js={c.style:.3g}"
            )

    try:
        result, sidecar_path = stylize_files(content, list(styles), output, config, preset=preset, on_step=on_step)
    finally:
        if bar is not None:
            bar.close()
    f, i = result.final, result.initial
    height, width = result.image.shape[:2]
    click.echo(
        f"wrote {output} ({width}x{height}) and {sidecar_path} in {result.seconds:.1f} s; "
        f"J={f.total:.4g} J_content={f.content:.4g} J_style={f.style:.4g} (at init {i.style:.4g}, "
        f"{i.style / max(f.style, 1e-30):.0f}x lower)"
    )
    for note in result.notes:
        click.echo(f"note: {note}")
