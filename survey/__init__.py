"""survey: find PyTorch Datasets whose DataLoader workers share NumPy random numbers."""
__version__ = "0.1.0"
