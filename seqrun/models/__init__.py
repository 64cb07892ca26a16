"""Architectures: each turns its config and the task into a keras.Model."""
