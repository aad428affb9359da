# Seed 001 table V: DCS-FB (TransReID) w/o IBB, DCS attention in every ViT
# block trained with CE + triplet only (TransReID's own losses).
_base_ = ['./dcs-fb_transreid_market1501.py']
model = dict(
    head=dict(
        _delete_=True, type='TransReIDHead', num_classes=751, in_channels=768))
# No IBVariationalHook: the head has no IB term.
custom_hooks = []
