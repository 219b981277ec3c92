"""Classroom outputs of the lessons: slide metadata, reveal.js decks and the offline course pack.

Not part of the ``unet_lessons`` package (learners never import it): it reads the committed notebooks and
writes static HTML. ``python -m classroom.build site|slides`` (``make site``, ``make slides``) builds;
``python -m classroom.slide_types`` gives new cells their slide types.
"""
