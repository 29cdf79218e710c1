"""Use cases of ConvNets over 1D signals and 3D volumes: datasets, beat segmentation, per-layer shapes of
the models, saved model bundles and prediction. Training runs built on the fit loop live in
``convapps.training.nd_train`` / ``nd_runs`` / ``nd_ensemble`` (``training/`` sits above ``nd/``)."""
