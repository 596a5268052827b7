"""The built-in in-process language model (llama.cpp via xllamacpp), its model store and bundles."""
