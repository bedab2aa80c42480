import argparse
import random

import numpy as np
import torch
from torch.utils.data import DataLoader

from data import ScanDataset

parser = argparse.ArgumentParser()
parser.add_argument("--workers", type=int, default=16)
parser.add_argument("--batch-size", type=int, default=32)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


def worker_init_fn(worker_id):
    np.random.seed(np.random.get_state()[1][0] + worker_id)


def main():
    torch.manual_seed(args.seed)
    dataset = ScanDataset([])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers, worker_init_fn=worker_init_fn)
    for epoch in range(10):
        for batch in loader:
            pass


if __name__ == "__main__":
    main()
