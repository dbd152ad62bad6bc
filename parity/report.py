"""The parity table on the console, and PARITY.md + JSON + one loss plot per case."""
import json
import platform
from dataclasses import asdict

COLUMNS = [("case", 18, "{}"), ("dtype", 8, "{}"), ("device", 6, "{}"), ("steps", 6, "{}"),
           ("max|dloss|", 10, "{:.2e}"), ("max rel", 9, "{:.2e}"), ("drift", 9, "{:.2e}"),
           ("max|dout|", 9, "{:.2e}"), ("max|dW|", 9, "{:.2e}"), ("verdict", 7, "{}"),
           ("mg s/step", 10, "{:.2e}"), ("tf s/step", 10, "{:.2e}")]


def _row(r):
    return [r.case, r.dtype, r.device, r.steps, r.max_abs_dloss, r.max_rel_dloss,
            r.drift_rel_dloss, r.max_abs_doutput, r.max_abs_dweight,
            "pass" if r.passed else "FAIL", r.mg_sec_per_step, r.tf_sec_per_step]


def print_table(results, header=True):
    if header:
        print(" ".join(f"{name:>{w}}" for name, w, _ in COLUMNS))
    for r in results:
        print(" ".join(f"{fmt.format(v):>{w}}" for (_, w, fmt), v in zip(COLUMNS, _row(r))),
              flush=True)


def _markdown_table(results):
    head = ["case", "dtype", "device", "steps", "max abs dloss", "max rel dloss",
            "drift (all steps)", "max abs doutput", "max abs dweight", "tolerance", "verdict",
            "minigrad s/step", "TF s/step"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r.case, r.dtype, r.device, str(r.steps), f"{r.max_abs_dloss:.2e}",
                 f"{r.max_rel_dloss:.2e}", f"{r.drift_rel_dloss:.2e}",
                 f"{r.max_abs_doutput:.2e}", f"{r.max_abs_dweight:.2e}", r.tolerance,
                 "pass" if r.passed else "**FAIL**", f"{r.mg_sec_per_step:.2e}",
                 f"{r.tf_sec_per_step:.2e}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(r, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError:
        return False
    a, b = np.asarray(r.mg_losses), np.asarray(r.tf_losses)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5), sharex=True,
                                      gridspec_kw={"height_ratios": [2, 1]})
    top.plot(b, label="TensorFlow", lw=2.5, alpha=0.6)
    top.plot(a, label="minigrad", lw=1, ls="--")
    top.set_ylabel("loss")
    top.set_title(f"{r.case} ({r.dtype}, TF on {r.device})")
    top.legend()
    rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
    bottom.semilogy(np.maximum(rel, 1e-18))
    bottom.set_ylabel("relative |dloss|")
    bottom.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def write_report(results, out_dir, command):
    import numpy as np
    import tensorflow as tf
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "parity.json").write_text(json.dumps([asdict(r) for r in results], indent=1))
    plots = []
    for r in results:
        name = f"{r.case}-{r.dtype}-{r.device}.png"
        if _plot(r, out_dir / name):
            plots.append(f"![{r.case} {r.dtype}]({name})")
    ok = sum(r.passed for r in results)
    extras = [f"- {r.case} {r.dtype}: minigrad {r.mg_extra}, TensorFlow {r.tf_extra}"
              for r in results if r.mg_extra or r.tf_extra]
    text = ["# Parity: minigrad against TensorFlow", "",
            f"Produced by `{command}`.", "",
            f"Machine: {platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}, numpy {np.__version__}, TensorFlow {tf.__version__}.",
            "", f"**parity: {ok}/{len(results)} cases within tolerance**", "",
            _markdown_table(results), "",
            "Columns: losses are compared step by step (relative to TensorFlow's); `drift` is "
            "the largest relative loss difference over every step, reported also where the "
            "tolerance judges only the first steps; outputs and weights are compared after the "
            "last step.", "", "## Results the runs printed", ""] + extras + ["", "## Plots", ""]
    text += plots
    (out_dir / "PARITY.md").write_text("\n".join(text) + "\n")
