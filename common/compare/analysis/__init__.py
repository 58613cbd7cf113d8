"""A finished run's analysis: pooled scores, uncertainty, verdicts, time to target, the noise floor."""
