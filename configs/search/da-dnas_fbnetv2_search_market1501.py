# DA-DNAS search (seed 000 appendix B.6.2): Single-Window DA after each of
# the four stages of the FBNetV2 supernet, searched jointly with the supernet
# widths: 384x128, batch 64, 300 epochs, weights SGD 0.035 (/10 at 150, 240)
# on 80%, Gumbel logits and windows Adam 0.03 (cosine) on 20%, DNAS cost
# loss, Gumbel tau0 = 5 x exp(-0.045) per epoch. No IBB (a DCS addition).
_base_ = ['./dcs-dnas_fbnetv2_search_market1501.py']
model = dict(
    model=dict(
        backbone=dict(attentions=[
            dict(
                cfg=dict(type='ChannelWindowAttention'),
                after=['stage1', 'stage2', 'stage3', 'stage4'])
        ]),
        head=dict(
            _delete_=True, type='ReIDHead', num_classes=751,
            in_channels=1984)))
custom_hooks = [
    dict(
        type='GumbelTemperatureHook',
        tau0=5.0,
        decay=0.045,
        attributes=['gumbel_tau']),
    dict(type='ArchitectureLoggerHook'),
    dict(type='ExportArchitectureHook', out_file='architecture.json'),
]
