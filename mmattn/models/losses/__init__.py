from .diversity_loss import DiversityLoss
from .hardnet_loss import HardNetLoss
from .ib_loss import IBBoundLoss
from .ral_loss import RobustAngularLoss
from .search_cost import DNASCostLoss
from .triplet_loss import TripletLoss

__all__ = [
    'DiversityLoss', 'IBBoundLoss', 'DNASCostLoss', 'TripletLoss',
    'HardNetLoss', 'RobustAngularLoss'
]
