# ResNet-32 + Rand_HOGA (K = 4) in every residual block (seed 004 table 6):
# a HOGA whose 10 edges each draw one primitive uniformly from the 8
# non-'none' primitives of the search space (Genotype.random; no edge is
# absent), seeded by random_seed, the same genotype in every block. The paper
# gives neither how many random genotypes it drew nor which it reports; train
# several with tools/train_random_genotypes.py (seeds 0..N-1, one work dir
# each, a table of params and best accuracy) and report the best or the mean.
# Change the genotype with --cfg-options
#   model.backbone.attentions.0.cfg.genotype.random_seed=S
_base_ = ['./resnet32_cifar10.py']
model = dict(
    backbone=dict(attentions=[
        dict(
            cfg=dict(
                type='HOGAttention',
                num_groups=4,
                genotype=dict(random_seed=0, num_groups=4)),
            in_blocks='layer*.*')
    ]))
