"""The pull-request gate: the remediations at a base revision against the working tree (`remedy check`)."""
