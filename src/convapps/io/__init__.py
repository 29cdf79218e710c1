"""Images and signals in and out: the only layer that knows about files, RGB/BGR and HWC/CHW."""
