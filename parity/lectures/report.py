"""`python -m parity.lectures --report DIR`: every lecture program run by TensorFlow and by
minigrad from the same initial weights, next to what the deck printed, in DIR/LECTURES.md.

For each lecture: TensorFlow's Session builds and initializes the deck's program; its initial
trainable values are copied by variable name into minigrad.compat.v1's Session running the same
program text (as parity.harness.run_case does); both train the same steps on the same batches
(float32, as the decks write it). The report shows the deck's printed result (DECK below), each
engine's result and wall time, and one loss plot per lecture (both engines' per-step losses on
one axes). Results accumulate in DIR/lectures.json, so lectures can be run one at a time
(`python -m parity.lectures NAME --report DIR`) and the report is rewritten from all of them.
"""
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from minigrad.data import DataError
from parity.lectures import LECTURES, LectureTrainer, load_all

# What the decks print, as they print it (source: the deck). "result": the numbers or text the
# deck shows; "keys": which of a run's results stand for them; "note": why a run of this
# repository's lecture may print something else (data order, seeds, steps).
DECK = {
    "mnist_cnn": dict(result="epoch 1 avg cost 1.147 -> epoch 5 0.052; test accuracy 0.977",
                      keys=("first line", "last line", "Accuracy")),
    "rnn_mnist": dict(result="test accuracy about 0.89 after 10 epochs", keys=("last line",
                                                                                "Accuracy")),
    "rnn_mnist_stacked": dict(result="test accuracy about 0.914 after 10 epochs (3 layers)",
                              keys=("last line", "Accuracy")),
    "stock_lstm": dict(result="test RMSE ~0.026, and the plot of testY against test_predict",
                       keys=("RMSE",)),
    "char_stacked": dict(result="loss 3.216 -> 0.229; the windows' predictions rebuild the "
                         "sentence", keys=("first loss", "last loss", "text")),
    "seq_loss": dict(result="0.5967595, 0.5130153, 0.3711007, 1.3132616 (the four losses)",
                     keys=("last line",)),
    "long_sentence": dict(result="the loss stalls and the predictions stay garbled (the deck "
                          "shows this program failing)", keys=("first loss", "last loss",
                                                               "text")),
    "hihello": dict(result='Prediction str: "ihello"', keys=("text",)),
    "char_seq": dict(result='the predictions spell "if you want you"', keys=("text",)),
    "text_gen": dict(result="samples of 200 characters per temperature, Nietzsche-like words "
                     "after some thousand iterations (text, no number)", keys=("generated",)),
}
# the same model as another lecture, in another form: the deck's number is that one's
for _form in ("static", "time_major"):
    DECK[f"rnn_mnist_{_form}"] = dict(DECK["rnn_mnist"], result=DECK["rnn_mnist"]["result"] +
                                      " (the deck's number for the dynamic_rnn form)")
    DECK[f"rnn_mnist_{_form}_stacked"] = dict(
        DECK["rnn_mnist_stacked"],
        result=DECK["rnn_mnist_stacked"]["result"] + " (the deck's number for dynamic_rnn)")
SOURCE = "the deck"

# Lectures that train with the deck's dropout (keep_prob 0.5): each engine draws its own masks,
# so their losses part from the first step; the final accuracies are what compares.
DROPOUT = {"text_cnn", "mnist_rnn_dropout"}

# Why a run here may differ from the deck, whichever engine runs it.
NOTES = {
    "mnist_cnn": "the deck's `mnist.train.next_batch` shuffles with its own seed; here batch i "
                 "is a fixed seeded permutation, and the initial weights are TF's draw of this "
                 "run, not the deck's",
    "mnist_softmax": "fixed batch order instead of next_batch's shuffle",
    "mnist_softmax_tensorboard": "fixed batch order instead of next_batch's shuffle",
    "rnn_mnist": "fixed batch order; the deck's own initial weights and shuffle are not known",
    "stock_lstm": "the deck's whole-series min-max scaling (the version whose RMSE it reports); "
                  "Adam from TF's initial draw of this run",
    "char_stacked": "the character ids are the sorted set (the deck's list(set()) order changes "
                    "per run); initial weights are this run's draw",
    "long_sentence": "the deck shows this one-layer program failing (garbled text)",
    "text_gen": "batches in text order (the deck shuffles once); the sampling draws from a "
                "seeded numpy generator, restarted for the closing sample so both engines start it from "
                "the same window; steps capped (see the steps column)",
    "text_cnn": "the deck trains for many epochs with dropout 0.5; here the lecture's step count",
}

# The order of a full run: cheap lectures first (seconds), the long MNIST and text ones last.
ORDER = ["seq_loss", "rnn_basics", "hihello", "char_seq", "xor", "xor_wide", "long_sentence",
         "char_stacked", "stock_lstm", "xor_tensorboard", "mnist_softmax", "text_cnn",
         "mnist_softmax_tensorboard", "rnn_mnist", "rnn_mnist_static", "rnn_mnist_time_major",
         "mnist_rnn_dropout", "cell_loop", "rnn_mnist_stacked", "rnn_mnist_static_stacked",
         "rnn_mnist_time_major_stacked", "lstm_mnist", "mnist_cnn", "text_gen"]

# Steps at most, whatever the deck runs: what fits a 2-core machine (the report says so).
CAPS = {"text_gen": 5000}


def order(names):
    rank = {n: i for i, n in enumerate(ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(ORDER)), n))


def steps_for(lecture, scale=1.0, cap=None):
    steps = max(1, int(round(lecture.steps * scale)))
    cap = CAPS.get(lecture.name) if cap is None else cap
    return min(steps, cap) if cap else steps


def _progress(desc, total):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, leave=False, mininterval=1.0, file=sys.stderr,
                disable=total < 200)


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def run_engine(name, engine, dtype, data, steps, weights, out_dir):
    """One engine's run of lecture `name` from `weights` (None: its own initializer's values);
    returns the initial weights and a dict of losses, log lines, closing prints, seconds."""
    from parity.tf_env import tf1_api
    _, tf, placement = tf1_api("cpu", engine)
    lecture = LECTURES[name]()
    if hasattr(lecture, "keep_logs"):
        lecture.keep_logs = False               # event files: a temporary directory
    if hasattr(lecture, "plot_path"):
        lecture.plot_path = str(out_dir / f"{name}-{engine}-prediction.png")
    t0 = time.perf_counter()
    trainer = LectureTrainer(lecture, tf, dtype, data, weights=weights, placement=placement)
    start = trainer.initial_weights() if weights is None else weights
    build = time.perf_counter() - t0
    losses, lines = [], []
    bar = _progress(f"{name} {engine}", steps)
    t0 = time.perf_counter()
    for i in range(steps):
        losses.append(float(np.sum(trainer.step(i))))
        line = trainer.line(i)
        if line is not None:
            lines.append(str(line))
        if bar is not None:
            bar.update()
    train = time.perf_counter() - t0
    if bar is not None:
        bar.close()
    if hasattr(lecture, "rng") and hasattr(lecture, "seed"):
        # text_gen's closing sample: the same seed window and generator state in both engines
        # (the draws during training consume a count that depends on the predictions)
        lecture.rng = np.random.RandomState(lecture.seed)
    extra = {k: _jsonable(v) for k, v in trainer.extra().items() if k != "logdir"}
    if extra.get("plot"):
        extra["plot"] = os.path.basename(extra["plot"])
        _shrink(out_dir / extra["plot"])
    trainer.sess.close()
    # the deck's first and last prints only (char_stacked prints 170 lines a step)
    lines = lines if len(lines) <= 4 else lines[:2] + lines[-2:]
    return start, dict(losses=losses, lines=lines, extra=extra, build_s=build,
                       train_s=train, steps=steps)


def run_lecture(name, data_dir=None, dtype="float32", steps=None, scale=1.0, out_dir="."):
    """TensorFlow's run, then minigrad's from TF's initial trainable values copied by variable
    name (as parity.harness.run_case); a dict for lectures.json."""
    out_dir = Path(out_dir)
    lecture = LECTURES[name]()
    steps = steps_for(lecture, scale) if steps is None else steps
    data = lecture.data(data_dir, dtype)        # a missing file raises DataError naming it
    runs = {}
    weights, runs["tensorflow"] = run_engine(name, "tensorflow", dtype, data, steps, None,
                                             out_dir)
    _, runs["minigrad"] = run_engine(name, "minigrad", dtype, data, steps, weights, out_dir)
    return dict(name=name, deck=lecture.deck, title=lecture.title, dtype=dtype,
                deck_steps=lecture.steps, steps=steps,
                data=(f"{data_dir}/{lecture.needs}" if data_dir and lecture.needs else
                      "embedded" if not lecture.needs else "generated"),
                runs=runs)


def plot_losses(rec, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    tf_l = np.asarray(rec["runs"]["tensorflow"]["losses"])
    mg_l = np.asarray(rec["runs"]["minigrad"]["losses"])
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(tf_l, label="TensorFlow", lw=2.5, alpha=0.6)
    ax.plot(mg_l, label="minigrad", lw=1, ls="--")
    if len(tf_l) > 1 and np.all(tf_l > 0) and tf_l.max() / max(tf_l.min(), 1e-300) > 50:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"{rec['name']} ({rec['dtype']}, {rec['steps']} steps)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=60)
    plt.close(fig)
    _shrink(path)
    return True


def _shrink(path):
    """PNGs stay small (< 100 KB): a palette image when Pillow is there."""
    try:
        from PIL import Image
        with Image.open(path) as im:
            im.convert("RGB").quantize(64).save(path, optimize=True)
    except Exception:       # noqa: BLE001 (no Pillow, or a file it cannot read: keep as is)
        pass


def _results(run):
    """The run's results by the names DECK's keys use."""
    out = dict(run["extra"])
    if run["losses"]:
        out["first loss"], out["last loss"] = run["losses"][0], run["losses"][-1]
    if run["lines"]:
        out["first line"], out["last line"] = run["lines"][0], run["lines"][-1]
    return out


def _fmt(v, width=90):
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return _fmt("[" + ", ".join(f"{x:.4g}" for x in v) + "]", width)
    s = " ".join(str(v).split())
    return s if len(s) <= width else s[:width] + " ..."


def _cell(run, keys):
    res = _results(run)
    return "; ".join(f"{k}: {_fmt(res[k])}" for k in keys if k in res).replace("|", "\\|")


def _keys(rec):
    keys = DECK.get(rec["name"], {}).get("keys")
    if keys:
        return keys
    extra = list(rec["runs"]["tensorflow"]["extra"])
    return ("first loss", "last loss") + tuple(k for k in extra if k != "plot")


def _verdict(rec):
    """How far the engines are apart, and what that says about a difference from the deck."""
    a = np.asarray(rec["runs"]["minigrad"]["losses"])
    b = np.asarray(rec["runs"]["tensorflow"]["losses"])
    if not len(a):
        return "no steps"
    rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-30)
    first = next((i for i, r in enumerate(rel) if r > 1e-3), None)
    text = f"per-step losses: max relative difference {rel.max():.1e}"
    if rec["name"] in DROPOUT:
        text += " (from step 0)"
    elif first is None:
        text += " (every step within 1e-3)"
    else:
        text += (f" (first above 1e-3 at step {first}; float32 rounding differences grow "
                 "in a long run)")
    if rec["name"] in DROPOUT:
        text += ("; the deck's dropout (keep_prob 0.5) draws its masks in each engine, so "
                 "the losses differ step by step by the masks, not the arithmetic")
    mg_x, tf_x = rec["runs"]["minigrad"]["extra"], rec["runs"]["tensorflow"]["extra"]
    closing = [k for k, v in tf_x.items() if isinstance(v, float) and
               isinstance(mg_x.get(k), float)]
    if closing:
        diffs = {k: abs(mg_x[k] - tf_x[k]) for k in closing}
        text += "; closing results " + ", ".join(
            f"{k} {mg_x[k]:.4g} vs {tf_x[k]:.4g}" for k in closing)
        if all(d <= 0.01 * max(abs(tf_x[k]), 1.0) for k, d in diffs.items()):
            return text + (": the engines agree (within 1%), so where both differ from the "
                           "deck it is the setup, not the engine")
        return text + ": the engines' closing results differ by more than 1%"
    last = abs(a[-1] - b[-1]) / max(abs(b[-1]), 1e-30)
    text += f"; last loss {a[-1]:.4g} vs {b[-1]:.4g}"
    if last < 0.05:
        text += ": the engines agree, so where both differ from the deck it is the setup"
    return text


def write(out_dir, records, command):
    import tensorflow as tf
    out_dir = Path(out_dir)
    names = order(records)
    lines = ["# The lectures' results reproduced: the deck, minigrad, TensorFlow", "",
             f"Produced by `{command}`, one lecture at a time (`python -m parity.lectures "
             "NAME --report DIR --data-dir DATA` reruns one and rewrites this file from "
             "lectures.json).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs "
             f"while this ran), Python {platform.python_version()}, numpy {np.__version__}, "
             f"TensorFlow {tf.__version__}.", "",
             "Each lecture program (parity/lectures/) is the deck's TF1 code written once. "
             "TensorFlow's Session runs it; minigrad.compat.v1's Session runs the same text "
             "from TensorFlow's initial trainable values, copied by variable name; both train "
             "the same steps on the same batches in float32. The deck column is what the deck "
             "prints (source: the deck); `-` where this table holds no number of the deck. "
             "Wall time: the training loop (with the deck's prints, e.g. text samples; for "
             "minigrad also its first step's compile), not the build.", "",
             "| lecture | data | steps (deck's) | the deck | minigrad | TensorFlow | "
             "minigrad s | TF s |", "|---|---|---|---|---|---|---|---|"]
    for n in names:
        rec = records[n]
        keys = _keys(rec)
        mg, tf_ = rec["runs"]["minigrad"], rec["runs"]["tensorflow"]
        deck = DECK.get(n, {}).get("result", "-")
        steps = f"{rec['steps']} ({rec['deck_steps']})"
        if rec["steps"] < rec["deck_steps"]:
            steps = f"**{rec['steps']}** ({rec['deck_steps']})"
        lines.append(f"| [{n}](#{n}) | {rec['data']} | {steps} | {deck} | {_cell(mg, keys)} | "
                     f"{_cell(tf_, keys)} | {mg['train_s']:.1f} | {tf_['train_s']:.1f} |")
    capped = [n for n in names if records[n]["steps"] < records[n]["deck_steps"]]
    if capped:
        lines += ["", "Shortened runs (bold steps): " + ", ".join(
            f"{n} {records[n]['steps']} of the deck's {records[n]['deck_steps']}"
            for n in capped) + ", to fit the machine's time; their results are after that "
            "many steps, not the deck's."]
    missing = [n for n in order(LECTURES) if n not in records]
    if missing:
        lines += ["", "Not run yet: " + ", ".join(missing) + "."]
    lines += ["", "## Per lecture", ""]
    for n in names:
        rec = records[n]
        mg, tf_ = rec["runs"]["minigrad"], rec["runs"]["tensorflow"]
        png = f"{n}-loss.png"
        lines += [f"### {n}", "", f"Deck {rec['deck']}: {rec['title']}. Data: {rec['data']}; "
                  f"{rec['steps']} steps (the deck's {rec['deck_steps']}).", ""]
        if n in DECK:
            lines.append(f"- the deck (source: {SOURCE}): {DECK[n]['result']}")
        lines += [f"- minigrad: {_cell(mg, _keys(rec))} ({mg['train_s']:.1f} s)",
                  f"- TensorFlow, same start: {_cell(tf_, _keys(rec))} "
                  f"({tf_['train_s']:.1f} s)",
                  f"- {_verdict(rec)}"]
        if n in NOTES:
            lines.append(f"- why a run here can differ from the deck: {NOTES[n]}")
        for key in ("text", "generated"):
            if key in mg["extra"]:
                lines += ["", f"minigrad's `{key}`:", "", "```", str(mg["extra"][key]), "```",
                          "", f"TensorFlow's `{key}`:", "", "```", str(tf_["extra"][key]),
                          "```"]
        if (out_dir / png).exists():
            lines += ["", f"![{n} losses]({png})"]
        for engine, run in (("minigrad", mg), ("TensorFlow", tf_)):
            if run["extra"].get("plot"):
                lines += ["", f"{engine}'s prediction (the deck's plot):", "",
                          f"![{n} prediction, {engine}]({run['extra']['plot']})"]
        lines.append("")
    (out_dir / "LECTURES.md").write_text("\n".join(lines) + "\n")
    return out_dir / "LECTURES.md"


def load_records(out_dir):
    path = Path(out_dir) / "lectures.json"
    return json.loads(path.read_text()) if path.exists() else {}


def report(out_dir, names=None, data_dir=None, dtype="float32", steps=None, scale=1.0,
           command="python -m parity.lectures --report"):
    """Run `names` (default: every lecture, cheap ones first) and rewrite DIR/LECTURES.md after
    each, from every result in DIR/lectures.json."""
    lectures = load_all()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = order(names or lectures)
    for n in names:
        if n not in lectures:
            raise SystemExit(f"parity.lectures: unknown lecture {n!r}; known: "
                             f"{', '.join(sorted(lectures))}")
    for n in names:
        t0 = time.perf_counter()
        print(f"[report] {n} ...", file=sys.stderr, flush=True)
        try:
            rec = run_lecture(n, data_dir, dtype, steps, scale, out_dir)
        except DataError as e:
            raise SystemExit(f"parity.lectures --report: lecture {n}: {e}") from None
        rec["command"] = command
        records = load_records(out_dir)
        records[n] = rec
        (out_dir / "lectures.json").write_text(json.dumps(records, indent=0))
        plot_losses(rec, out_dir / f"{n}-loss.png")
        write(out_dir, records, command)
        print(f"[report] {n}: {rec['steps']} steps, minigrad "
              f"{rec['runs']['minigrad']['train_s']:.1f} s, TF "
              f"{rec['runs']['tensorflow']['train_s']:.1f} s, all {time.perf_counter() - t0:.0f} s",
              file=sys.stderr, flush=True)
    return out_dir / "LECTURES.md"
