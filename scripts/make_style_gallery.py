"""Regenerate the style-transfer gallery in docs/style/ (content photos from scikit-image only).

    .venv/bin/python scripts/make_style_gallery.py [--size 320]

Content: scikit-image's astronaut, chelsea and coffee (they ship in the installed package). Styles:
public-domain paintings from ../shared/data/style (Van Gogh, Hokusai, Kandinsky); only the generated
results are written, never the paintings or thumbnails of them. JPEG quality 85 keeps each file < 150 KB.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from PIL import Image
from skimage import data

from convapps.io.images import load_image
from convapps.style.config import preset
from convapps.style.transfer import stylize

ROOT = Path(__file__).resolve().parents[1]
PAINTINGS = ROOT.parent / "shared" / "data" / "style" / "paintings"
GALLERY = (
    ("astronaut", "starry_night.jpg"),
    ("chelsea", "wave.jpg"),
    ("coffee", "composition_vii.jpg"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", default="120,60,20", help="steps per scale (3 scales)")
    args = parser.parse_args()
    steps = tuple(int(v) for v in args.iterations.split(","))
    config = preset("default").replace(size=args.size, iterations=steps, threads=1)
    out_dir = ROOT / "docs" / "style"
    out_dir.mkdir(parents=True, exist_ok=True)
    index = []
    for name, painting in GALLERY:
        content = getattr(data, name)()
        style = load_image(PAINTINGS / painting, max_side=2 * args.size)
        result = stylize(content, [style], config)
        target = out_dir / f"{name}_{Path(painting).stem}.jpg"
        Image.fromarray(result.image).save(target, quality=85, optimize=True)
        index.append(
            {
                "file": target.name,
                "content": f"skimage.data.{name}()",
                "style": painting,
                "size": args.size,
                "seconds": round(result.seconds, 1),
                "j_style_final_over_init": round(result.final.style / result.initial.style, 4),
            }
        )
        print(index[-1], flush=True)
    (out_dir / "gallery.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
