import argparse
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from data import SatelliteTiles

parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=8)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def main():
    torch.manual_seed(args.seed)
    dataset = SatelliteTiles([])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    for epoch in range(10):
        for batch in loader:
            pass


if __name__ == "__main__":
    main()
