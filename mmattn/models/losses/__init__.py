from .diversity_loss import DiversityLoss
from .ib_loss import IBBoundLoss
from .search_cost import DNASCostLoss
from .triplet_loss import TripletLoss

__all__ = ['DiversityLoss', 'IBBoundLoss', 'DNASCostLoss', 'TripletLoss']
