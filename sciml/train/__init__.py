"""Training core: the Trainer, losses, metrics and checkpoints shared by every learned model."""

from sciml.train import distributed as distributed
from sciml.train.autoregressive import AutoregressiveTrainer as AutoregressiveTrainer
from sciml.train.autoregressive import RolloutEvaluation as RolloutEvaluation
from sciml.train.autoregressive import evaluate_rollout as evaluate_rollout
from sciml.train.autoregressive import rollout as rollout
from sciml.train.autoregressive import rollout_errors as rollout_errors
from sciml.train.checkpoint import Checkpoint as Checkpoint
from sciml.train.checkpoint import CheckpointError as CheckpointError
from sciml.train.checkpoint import load_checkpoint as load_checkpoint
from sciml.train.checkpoint import save_checkpoint as save_checkpoint
from sciml.train.distributed import init_distributed as init_distributed
from sciml.train.distributed import is_main_process as is_main_process
from sciml.train.losses import H1Loss as H1Loss
from sciml.train.losses import LpLoss as LpLoss
from sciml.train.losses import get_loss as get_loss
from sciml.train.metrics import METRICS as METRICS
from sciml.train.metrics import pdebench_metrics as pdebench_metrics
from sciml.train.metrics import relative_h1 as relative_h1
from sciml.train.metrics import relative_l2 as relative_l2
from sciml.train.metrics import vrmse as vrmse
from sciml.train.trainer import Trainer as Trainer
from sciml.train.trainer import TrainingDivergedError as TrainingDivergedError
