"""Pure maths of the lecture: tensors in, tensors out; no I/O, no weights, no globals."""
