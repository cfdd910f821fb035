"""Everything around the product: the local stand-in for AWS (`local/`), the notice-rendering
layer builder (`layers/`), command-line tools (`tools/`) and sample data (`data/`)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "infra" / "data"
