"""Encoders: preprocessing fitted on the training split only and saved with the run."""
