"""The parts of the service built at start-up: the face desk, the style studio, the top-patches viewer.

Each module has ``build(settings) -> Feature`` (loading its models once) and the work its routes call.
"""
