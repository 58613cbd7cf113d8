"""What both twins build from and are held to: the model specs, the neutral weight layout, reference losses, schedules, the twin interface."""
