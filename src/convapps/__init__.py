"""convapps: special applications of ConvNets.

Face verification and one-shot recognition, neural style transfer, what ConvNet units respond to,
and ConvNets over 1D signals and 3D volumes. Importing the package is cheap: models load lazily,
once, on first use, and never from the network.
"""

__version__ = "0.1.0"
