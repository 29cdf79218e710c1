"""``convapps viz``: what deep ConvNets are learning."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from convapps.errors import NotFoundError
from convapps.models.registry import DEFAULT_FEATURES_NETWORK, get_network, network_names


class FeaturesNetwork(click.ParamType):
    """A registered ``features`` network, by name or alias (``vgg16``); converted to its registry name."""

    name = "network"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return f"[{'|'.join(network_names(role='features'))}]"

    def convert(self, value: str, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return get_network(value, role="features").name
        except NotFoundError as err:
            self.fail(str(err), param, ctx)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        names = network_names(role="features")
        return [click.shell_completion.CompletionItem(n) for n in names if n.startswith(incomplete)]


def _aliases() -> str:
    pairs = [f"{alias} = {name}" for name in network_names(role="features") for alias in get_network(name).aliases]
    return f" Also accepted: {', '.join(pairs)}." if pairs else ""


@click.group()
def viz() -> None:
    """What are deep ConvNets learning? The image patches that most activate a unit, layers 1 to 5."""


@viz.command("top-patches")
@click.argument("images_dir", type=click.Path(path_type=Path))
@click.option(
    "--network",
    type=FeaturesNetwork(),
    default=DEFAULT_FEATURES_NETWORK,
    show_default=True,
    help="Pretrained network to probe (weights ship in installed packages)." + _aliases(),
)
@click.option(
    "--layers",
    default="1-5",
    show_default=True,
    help="Layers: stage numbers (1-5, 1,3,5) or layer names (relu4_1, block7), comma-separated.",
)
@click.option(
    "--units",
    default="random:8",
    show_default=True,
    help="Units per layer: indices (3,17,42), random:N or top:N (highest mean activation).",
)
@click.option("-k", "--top", "k", type=int, default=9, show_default=True, help="Patches per unit.")
@click.option(
    "--size",
    type=int,
    default=224,
    show_default=True,
    help="Images are scaled and centre-cropped to SIZE x SIZE pixels before the network.",
)
@click.option(
    "--batch-size",
    type=int,
    help="Images per forward pass (default: the network's; "
    + ", ".join(f"{n} {get_network(n).probe_batch_size}" for n in network_names(role="features"))
    + ").",
)
@click.option("--tile", type=int, default=64, show_default=True, help="Pixels per crop in the grid PNGs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of random:N.")
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder (created): one grid PNG per layer, patches.json, index.html.",
)
def top_patches_command(
    images_dir: Path,
    network: str,
    layers: str,
    units: str,
    k: int,
    size: int,
    batch_size: int | None,
    tile: int,
    seed: int,
    out_dir: Path,
) -> None:
    """Find the top-K image patches of units in layers 1 to 5 over IMAGES_DIR.

    For each chosen unit, every image contributes its strongest position (one patch per image); the K
    strongest images win, and the receptive field of that position is cut out of the image. Layer 1
    units respond to edges and colours, deeper layers to textures, object parts and whole objects.

    \b
    Layer i of vgg16-hed is the last ReLU of block i (relu1_2 ... relu5_3); of efficientnet-lite0, the
    last block at stride 2^i (block0, block2, block4, block10, block15).

    \b
    Example:
      convapps viz top-patches photos/ --layers 1-5 --units random:8 -o out/viz
      then open out/viz/index.html
    """
    from tqdm import tqdm

    from convapps.viz.top_patch_run import TopPatchesConfig, top_patches

    config = TopPatchesConfig(
        network=network, layers=layers, units=units, k=k, size=size, batch_size=batch_size, tile=tile, seed=seed
    )
    bar = tqdm(total=0, unit="img", desc=f"top-patches {network}", file=sys.stderr, disable=None)

    def on_total(total: int) -> None:
        bar.total = total
        bar.refresh()

    try:
        report = top_patches(images_dir, out_dir, config=config, progress=bar.update, on_total=on_total)
    finally:
        bar.close()
    click.echo(f"{report.images_used} images through {report.model_id}")
    if report.skipped:
        names = ", ".join(p.name for p, _ in report.skipped[:3])
        more = f" and {len(report.skipped) - 3} more" if len(report.skipped) > 3 else ""
        click.echo(f"skipped {len(report.skipped)} unreadable file(s): {names}{more}")
    for layer in report.layers:
        field = layer.field.rows
        click.echo(
            f"{layer.layer.label:<22} RF {field.size:>3} px, jump {field.jump:>2}: "
            f"units {', '.join(str(u.unit) for u in layer.units)} -> {layer.grid}"
        )
    click.echo(f"open {report.html}")
