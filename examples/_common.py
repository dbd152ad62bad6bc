"""Helpers the example scripts share (run as scripts, they import this from their folder)."""


def progress(it, desc, disabled):
    try:
        from tqdm import tqdm
    except ImportError:
        return it
    return tqdm(it, desc=desc, leave=False, disable=disabled, mininterval=0.5)


def log(line):
    """Print without breaking the progress bar."""
    try:
        from tqdm import tqdm
        tqdm.write(line)
    except ImportError:
        print(line)
