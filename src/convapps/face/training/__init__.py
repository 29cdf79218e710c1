"""Learning the similarity function for faces, next to the face use case: identity splits of LFW, the
P x K batch sampler, the triplet trainer of an encoder (:mod:`.triplet`), the Siamese head trainer
(:mod:`.siamese`) and the end-to-end View 1 run that saves a model file (:mod:`.encoder_run`).

They run on the generic fit loop of :mod:`convapps.training`; evaluation is
:mod:`convapps.face.evaluation`, the same code that evaluates dlib's pretrained pipeline."""
