"""The two packages point one way: `nn` is the small numpy core, `digits` the reader built on it."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_LIBRARIES = ("cv2", "pandas", "PIL", "matplotlib", "sklearn", "IPython", "ipywidgets", "ipycanvas",
                     "digits")


def test_importing_the_core_loads_no_image_plot_or_widget_library():
    modules = [f"nn.{path.stem}" for path in (ROOT / "nn").glob("*.py") if path.stem != "__init__"]
    code = (f"import sys, {', '.join(modules)}\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({PRODUCT_LIBRARIES!r})))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", f"importing nn loaded {run.stdout.strip()}"


def test_no_core_module_imports_the_reader_even_inside_a_function():
    for path in (ROOT / "nn").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.split(".")[0] in PRODUCT_LIBRARIES for name in names), \
                f"{path.name}:{node.lineno} imports {names}"
