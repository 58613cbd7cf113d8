"""Shared pytest-benchmark set-up: the model-throughput options and fixtures (prefixed `saltbench`)
live in the packaged plugin, so `saltbench bench` needs no source checkout."""

from common.bench.timing.plugin import *  # noqa: F403  (pytest finds hooks and fixtures by name)
