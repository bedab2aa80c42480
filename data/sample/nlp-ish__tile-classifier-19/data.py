import numpy as np
from torch.utils.data import Dataset


class RandomCrop(object):
    """Crop randomly the image in a sample."""

    def __init__(self, output_size):
        self.output_size = output_size

    def __call__(self, sample):
        image = sample["image"]
        h, w = image.shape[:2]
        top = np.random.randint(0, h - self.output_size)
        left = np.random.randint(0, w - self.output_size)
        sample["image"] = image[top: top + self.output_size, left: left + self.output_size]
        return sample


class SatelliteTiles(Dataset):
    def __init__(self, items, transform=None):
        self.items = items
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        sample = {"image": self.items[idx]}
        if self.transform:
            sample = self.transform(sample)
        return sample
