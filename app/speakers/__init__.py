"""Offline speaker labels: who spoke when, from CAM++ voice embeddings, in numpy alone."""
