import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("D2LITE_DEVICE", "")
