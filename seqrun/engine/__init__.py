"""Engine: experiments, training, checkpoints, archives, sweeps and reports."""
