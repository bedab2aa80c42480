import numpy as np
from torch.utils.data import Dataset


class SatelliteTiles(Dataset):
    def __init__(self, images, size=32):
        self.images = images
        self.size = size

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        picture = self.images[index]
        top = np.random.randint(0, picture.shape[0] - self.size)
        left = np.random.randint(0, picture.shape[1] - self.size)
        return picture[top:top + self.size, left:left + self.size]
