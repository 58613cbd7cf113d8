"""Throughput benchmarking: settings, variants, the per-backend runner, step timing, roofline, summary."""
