from .diversity_loss import DiversityLoss
from .triplet_loss import TripletLoss

__all__ = ['DiversityLoss', 'TripletLoss']
