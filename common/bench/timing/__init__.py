"""What runs inside one backend's pytest-benchmark process: the suite, its plugin and settings, the
timed step and harness epoch, the roofline, the turn gate."""
