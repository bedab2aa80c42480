"""Qualified names the analysis decides on: what is a Dataset, a DataLoader, a NumPy draw, a seed source.

Decisions are made on qualified names (``torch.utils.data.DataLoader``), never on spelled names, so every
import form and alias is one case.
"""
import builtins
from functools import lru_cache

DATALOADERS = frozenset({
    "torch.utils.data.DataLoader",
    "torch.utils.data.dataloader.DataLoader",
    # Library subclasses that start torch's worker processes as they are (PyG's collate differs, the
    # workers do not); their positional parameters differ after ``shuffle``, see LOADER_POSITIONAL.
    "torch_geometric.loader.DataLoader", "torch_geometric.data.DataLoader",
    "torch_geometric.loader.DataListLoader", "torch_geometric.data.DataListLoader",
    "torch_geometric.loader.DenseDataLoader", "torch_geometric.data.DenseDataLoader",
    "dgl.dataloading.GraphDataLoader", "dgl.dataloading.pytorch.GraphDataLoader",
})
TORCH_DATALOADERS = frozenset({"torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"})

DATASET_BASES = frozenset({
    "torch.utils.data.Dataset",
    "torch.utils.data.IterableDataset",
    "torch.utils.data.dataset.Dataset",
    "torch.utils.data.dataset.IterableDataset",
    "torch.utils.data.TensorDataset",
    "torch.utils.data.dataset.TensorDataset",
})

# Library packages whose classes are torch Datasets: a subclass of one is a custom Dataset, and an
# instance built with a repo-defined transform runs that transform in the workers.
LIBRARY_DATASET_PREFIXES = (
    "torchvision.datasets.",
    "torchaudio.datasets.",
    "torchtext.datasets.",
    "torch_geometric.datasets.",
    # OpenMMLab's dataset bases are torch Datasets (mmengine.dataset.BaseDataset subclasses Dataset)
    "mmengine.dataset.", "mmdet.datasets.", "mmseg.datasets.", "mmpose.datasets.", "mmcls.datasets.",
    "mmpretrain.datasets.", "mmaction.datasets.", "mmocr.datasets.", "mmdet3d.datasets.",
)

# Dataset methods that run once per sample (or per stream) inside a worker.
PER_SAMPLE_METHODS = ("__getitem__", "__getitems__", "__iter__", "__next__")
# whose __getitem__ runs the subclass's get(idx) per sample
GEOMETRIC_DATASETS = ("torch_geometric.data.", "torch_geometric.datasets.")

GET_WORKER_INFO = frozenset({
    "torch.utils.data.get_worker_info",
    "torch.utils.data._utils.worker.get_worker_info",
})

NUMPY_RANDOM = "numpy.random"

# numpy.random attributes that are not draws from the global RNG.
NUMPY_RANDOM_NOT_DRAWS = frozenset({
    "seed", "get_state", "set_state", "RandomState", "default_rng", "Generator", "SeedSequence",
    "BitGenerator", "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64", "mtrand", "bit_generator",
    "get_bit_generator", "set_bit_generator",
})

RNG_CONSTRUCTORS = frozenset({
    "numpy.random.RandomState", "numpy.random.mtrand.RandomState", "numpy.random.default_rng",
    "numpy.random.Generator",
})
BIT_GENERATORS = frozenset({
    "numpy.random.PCG64", "numpy.random.PCG64DXSM", "numpy.random.MT19937", "numpy.random.Philox",
    "numpy.random.SFC64", "numpy.random.SeedSequence",
})

# Methods of RandomState and Generator that draw numbers.
RNG_DRAW_METHODS = frozenset({
    "rand", "randn", "randint", "random_integers", "random_sample", "random", "ranf", "sample", "choice",
    "bytes", "shuffle", "permutation", "permuted", "integers", "uniform", "normal", "standard_normal",
    "beta", "binomial", "chisquare", "dirichlet", "exponential", "standard_exponential", "f", "gamma",
    "standard_gamma", "geometric", "gumbel", "hypergeometric", "laplace", "logistic", "lognormal",
    "logseries", "multinomial", "multivariate_normal", "multivariate_hypergeometric", "negative_binomial",
    "noncentral_chisquare", "noncentral_f", "pareto", "poisson", "power", "rayleigh", "standard_cauchy",
    "standard_t", "triangular", "vonmises", "wald", "weibull", "zipf", "tomaxint",
})

NUMPY_GLOBAL_SEEDERS = frozenset({"numpy.random.seed", "numpy.random.set_state"})
PYTHON_SEEDERS = frozenset({"random.seed", "random.setstate"})
TORCH_SEEDERS = frozenset({
    "torch.manual_seed", "torch.random.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
})

# Seed sources that differ per worker and per epoch (PyTorch sets the worker's torch seed to
# base_seed + worker_id, and base_seed is drawn anew for every epoch's iterator).
TORCH_SEED_CALLS = frozenset({"torch.initial_seed", "torch.seed", "torch.random.initial_seed",
                              "torch.random.seed"})
TORCH_DRAW_PREFIXES = ("torch.randint", "torch.rand", "torch.randn", "torch.randperm", "torch.empty",
                       "torch.Generator", "torch.multinomial", "torch.normal", "torch.bernoulli")
ENTROPY_CALLS = frozenset({"os.urandom", "os.getrandom", "random.SystemRandom", "uuid.uuid4",
                           "secrets.randbits", "secrets.randbelow", "secrets.token_bytes", "secrets.token_hex",
                           "secrets.choice", "secrets.token_urlsafe"})
CPU_COUNT_CALLS = frozenset({"os.cpu_count", "multiprocessing.cpu_count", "os.sched_getaffinity",
                             "psutil.cpu_count", "torch.get_num_threads", "torch.multiprocessing.cpu_count"})
# Builtins that pass their argument's nature through (int(torch.initial_seed() % 2**32) is still a torch seed).
BUILTINS = frozenset(dir(builtins))
PASS_THROUGH_BUILTINS = frozenset({"int", "abs", "hash", "str", "min", "max", "sum", "float", "len", "round",
                                   "tuple", "list", "bytes", "divmod", "pow"})

# keywords by which a library dataset is handed a transform, which then runs in the workers
TRANSFORM_KEYWORDS = frozenset({"transform", "target_transform", "pre_transform"})

LIGHTNING_PREFIXES = ("pytorch_lightning", "lightning", "lightning_fabric")

DATALOADER_POSITIONAL = ("dataset", "batch_size", "shuffle", "sampler", "batch_sampler", "num_workers",
                         "collate_fn", "pin_memory", "drop_last", "timeout", "worker_init_fn")


# Names that configuration code gives worker counts besides "workers" (--n_cpu, threads, n_jobs, n_proc).
_WORKER_HINTS = ("worker", "cpu", "thread", "job", "proc")


@lru_cache(maxsize=8192)
def may_count_workers(name: str) -> bool:
    lowered = name.lower()
    return any(h in lowered for h in _WORKER_HINTS)


def is_dataset_base(qualname: str) -> bool:
    if qualname in DATASET_BASES:
        return True
    if qualname.startswith(("torch.utils.data.", "torch_geometric.data.")) and qualname.endswith("Dataset"):
        return True  # PyTorch Geometric's Dataset and InMemoryDataset subclass torch's
    return qualname.startswith(LIBRARY_DATASET_PREFIXES)


def is_numpy_global_draw(qualname: str) -> bool:
    prefix = NUMPY_RANDOM + "."
    if not qualname.startswith(prefix):
        return False
    rest = qualname[len(prefix):]
    return "." not in rest and rest not in NUMPY_RANDOM_NOT_DRAWS and not rest.startswith("_")


def is_lightning_seed_everything(qualname: str) -> bool:
    return qualname.endswith("seed_everything") and qualname.startswith(LIGHTNING_PREFIXES)

# Top-level modules no repository defines, whose functions never run repository code with the arguments they
# get: their calls' arguments are not worth evaluating (library datasets and DataLoader are kept apart).
EXTERNAL_MODULES = frozenset({
    "numpy", "torch", "os", "sys", "math", "re", "json", "time", "logging", "random", "collections",
    "itertools", "pathlib", "glob", "shutil", "copy", "pickle", "warnings", "typing", "cv2", "PIL", "scipy",
    "pandas", "h5py", "matplotlib", "tqdm", "yaml", "datetime", "io", "csv", "subprocess", "struct", "string",
    "platform", "socket", "tempfile", "traceback", "inspect", "hashlib", "uuid", "zipfile", "tarfile", "gzip",
    "urllib", "requests", "skimage", "imageio", "PIL", "tensorboardX", "wandb", "cupy", "numba", "einops",
})
