from .attention_backbone import AttentionBackbone
from .fbnetv2 import FBNetV2Subnet, FBNetV2Supernet
from .hrnet_reid import HRConcatFusion, HRNetReID
from .l2net import L2Net
from .mobilenet_v2_reid import MobileNetV2ReID
from .osnet import OSNet
from .resnet_cifar import CifarResNet, CifarResNeXt
from .transreid import TransReID

__all__ = [
    'AttentionBackbone', 'HRConcatFusion', 'HRNetReID', 'MobileNetV2ReID',
    'OSNet', 'CifarResNet', 'CifarResNeXt', 'FBNetV2Supernet', 'FBNetV2Subnet',
    'TransReID', 'L2Net'
]
