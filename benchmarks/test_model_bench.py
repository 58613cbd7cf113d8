"""Model throughput per variant: the packaged suite (common/bench/timing/suite.py), collected here too.

`KERAS_BACKEND=tensorflow pytest benchmarks/test_model_bench.py --saltbench-variants torch-eager,keras-tf`
runs what `saltbench bench` runs in its tensorflow process; the code lives in `common.bench` so an
installed wheel can benchmark too.
"""

from common.bench.timing.suite import *  # noqa: F403  (test functions and pytest_generate_tests by name)
