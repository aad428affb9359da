# DA-FB search with Multi-Window DA (seed 000 appendix A.1 / B.3): M =
# ceil(C / 8) windows of length 8 tiling the channels, merged into T <= M
# disjoint windows; schedule of da-fb-single_mobilenet-v2_search_market1501.
_base_ = ['./da-fb-single_mobilenet-v2_search_market1501.py']
model = dict(
    model=dict(
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='MultiWindowAttention', window_length=8),
                after=['layer2', 'layer3', 'layer5', 'layer7'])
        ])))
