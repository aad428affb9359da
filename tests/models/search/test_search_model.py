"""BilevelSearchModel, the optimiser constructor, export and
SearchedBackbone."""
import copy
import json

import pytest
import torch
from mmengine.optim import OptimWrapperDict
from mmpretrain.structures import DataSample

from mmattn.engine.optimizers import BilevelOptimWrapperConstructor
from mmattn.models.attentions import (ChannelWindowAttention,
                                      FixedChannelWindowAttention)
from mmattn.models.search import (build_searched_backbone, carry_modules,
                                  collect_arch_parameters, export_architecture,
                                  save_architecture, split_parameters)
from mmattn.registry import MODELS

DA_BACKBONE = dict(
    type='AttentionBackbone',
    backbone=dict(type='CifarResNet', depth=20, base_channels=8),
    attentions=[
        dict(
            cfg=dict(type='ChannelWindowAttention'),
            after=['layer1', 'layer2']),
        dict(cfg=dict(type='HOGAttention', search=True), in_blocks='layer3.0')
    ],
    dummy_input_shape=(1, 3, 16, 16))


def classifier(backbone=DA_BACKBONE):
    return dict(
        type='ImageClassifier',
        backbone=copy.deepcopy(backbone),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=32),
        data_preprocessor=dict(num_classes=3))


def build_search(arch_lr=0.1, arch_momentum=0.9):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='BilevelSearchModel', model=classifier()))
    # Open the zero-initialised output BN of DA so that the windows get a
    # gradient from the first step.
    for module in model.modules():
        if isinstance(module, ChannelWindowAttention):
            module.out_proj.norm.weight.data.fill_(1.0)
    wrapper = BilevelOptimWrapperConstructor(
        dict(
            weights=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
            architecture=dict(
                optimizer=dict(type='SGD', lr=arch_lr,
                               momentum=arch_momentum))))(
                                   model)
    return model, wrapper


def batch(seed):
    g = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 255, (3, 16, 16), generator=g).float()
        for _ in range(6)
    ]
    samples = [DataSample().set_gt_label(i % 3) for i in range(6)]
    return dict(inputs=inputs, data_samples=samples)


def snapshot(params):
    return [p.detach().clone() for p in params]


def changed(before, params):
    return [not torch.equal(b, p.detach()) for b, p in zip(before, params)]


def test_parameter_split_and_optim_wrapper_dict():
    model, wrapper = build_search()
    weights, arch = split_parameters(model)
    # 2 DA modules x (s_dec, l_dec) + the one shared HOGA alpha.
    assert len(arch) == 5
    assert any(p is model.hoga_architecture.alpha for p in arch)
    assert {id(p) for p in weights}.isdisjoint({id(p) for p in arch})
    n_total = sum(1 for p in model.parameters() if p.requires_grad)
    assert len(weights) + len(arch) == n_total
    assert isinstance(wrapper, OptimWrapperDict)
    opt_w = {
        id(p)
        for g in wrapper['weights'].optimizer.param_groups
        for p in g['params']
    }
    opt_a = {
        id(p)
        for g in wrapper['architecture'].optimizer.param_groups
        for p in g['params']
    }
    assert opt_w == {id(p) for p in weights}
    assert opt_a == {id(p) for p in arch}


def test_weights_change_only_on_train_a_architecture_only_on_train_b():
    model, wrapper = build_search()
    weights, arch = split_parameters(model)
    w0, a0 = snapshot(weights), snapshot(arch)
    logs = model.train_step(dict(train_a=batch(0)), wrapper)
    assert 'loss' in logs and not any(k.startswith('arch_') for k in logs)
    assert any(changed(w0, weights))
    assert not any(changed(a0, arch))

    w1, a1 = snapshot(weights), snapshot(arch)
    logs = model.train_step(dict(train_b=batch(1)), wrapper)
    assert 'arch_loss' in logs
    assert not any(changed(w1, weights))
    assert all(changed(a1, arch))

    # Both in one iteration: each set moves once.
    w2, a2 = snapshot(weights), snapshot(arch)
    model.train_step(dict(train_a=batch(2), train_b=batch(3)), wrapper)
    assert any(changed(w2, weights)) and all(changed(a2, arch))


def test_architecture_step_uses_only_the_train_b_gradient():
    """With plain SGD the arch update equals -lr * grad of the B loss alone
    (the A step's gradient on alpha must not leak into it)."""
    model, wrapper = build_search(arch_lr=0.5, arch_momentum=0.0)
    alpha = model.hoga_architecture.alpha
    reference = copy.deepcopy(model)
    data_b = batch(5)
    model.train_step(dict(train_a=batch(4)), wrapper)
    reference.load_state_dict(model.state_dict())
    before = alpha.detach().clone()
    model.train_step(dict(train_b=copy.deepcopy(data_b)), wrapper)
    reference.zero_grad()
    reference.train()
    loss, _ = reference.parse_losses(
        reference(**reference.data_preprocessor(data_b, True), mode='loss'))
    loss.backward()
    expected = before - 0.5 * reference.hoga_architecture.alpha.grad
    torch.testing.assert_close(alpha.detach(), expected, rtol=1e-4, atol=1e-6)


def test_carry_rule_runs_after_architecture_steps():
    model, wrapper = build_search(arch_lr=200.0, arch_momentum=0.0)
    modules = carry_modules(model.model)
    assert all(isinstance(m, ChannelWindowAttention) for m in modules)
    assert len(modules) == 2
    da = modules[0]
    s_int, s_dec = da.s_int.clone(), da.s_dec.detach().clone()
    l_int = da.l_int.clone()
    model.train_step(dict(train_b=batch(6)), wrapper)
    # The huge step moved s (and l) across integers: the carry put the
    # whole steps into s_int / l_int and left decimals in [0, 1).
    assert not torch.equal(da.s_int, s_int) or not torch.equal(da.l_int, l_int)
    for module in modules:
        assert ((module.s_dec >= 0) & (module.s_dec < 1)).all()
        assert ((module.l_dec >= 0) & (module.l_dec < 1)).all()
        assert ((module.s_int >= 0) &
                (module.s_int < module.in_channels)).all()
    assert not torch.equal(da.s_dec.detach(), s_dec) or not torch.equal(
        da.s_int, s_int)


def test_train_step_rejects_plain_batches_and_wrappers():
    model, wrapper = build_search()
    with pytest.raises(ValueError, match='train_a'):
        model.train_step(batch(0), wrapper)
    with pytest.raises(TypeError, match='OptimWrapperDict'):
        model.train_step(dict(train_a=batch(0)), wrapper['weights'])


def test_model_without_architecture_parameters_is_refused():
    plain = classifier(dict(type='CifarResNet', depth=20, base_channels=8))
    with pytest.raises(ValueError, match='no architecture'):
        MODELS.build(dict(type='BilevelSearchModel', model=plain))


def test_cost_loss_needs_a_supernet():
    with pytest.raises(ValueError, match='expected_flops'):
        MODELS.build(
            dict(
                type='BilevelSearchModel',
                model=classifier(),
                cost_loss=dict(type='DNASCostLoss')))


def test_dnas_cost_loss_formula():
    loss = MODELS.build(dict(type='DNASCostLoss'))
    value = loss(torch.tensor(2.0), torch.tensor(300e6))
    expected = 0.2 * 2.0 * torch.log(torch.tensor(300.0))**0.5
    torch.testing.assert_close(value, expected)


def test_export_and_searched_backbone_give_the_same_network(tmp_path):
    model, wrapper = build_search(arch_lr=50.0, arch_momentum=0.0)
    model.train_step(dict(train_a=batch(0), train_b=batch(1)), wrapper)
    path = tmp_path / 'arch.json'
    arch = save_architecture(model, str(path))
    assert set(arch['da']) == {
        'backbone.backbone.layer1.attention',
        'backbone.backbone.layer2.attention'
    }
    assert arch['hoga']['genotype'] == \
        model.hoga_architecture.derive_genotype().to_dict()

    backbone = build_searched_backbone(
        copy.deepcopy(DA_BACKBONE), arch_file=str(path))
    fixed = [
        m for m in backbone.modules()
        if isinstance(m, FixedChannelWindowAttention)
    ]
    assert len(fixed) == 2
    assert not any(
        isinstance(m, ChannelWindowAttention) for m in backbone.modules())
    # The fixed network exports the same architecture.
    retrained = MODELS.build(classifier())
    retrained.backbone = backbone
    again = export_architecture(retrained)
    for section in ('da', ):
        for key, entry in arch[section].items():
            assert again[section][key]['windows'] == entry['windows']
            assert again[section][key]['in_channels'] == \
                entry['in_channels']
    assert again['hoga']['genotype'] == arch['hoga']['genotype']


def test_fixed_windows_reproduce_the_searched_network_at_integer_windows():
    """Loading the JSON into a fresh model gives the same network: with the
    searched weights and integer windows the pruned DA equals the search."""
    da_only = copy.deepcopy(DA_BACKBONE)
    da_only['attentions'] = da_only['attentions'][:1]
    torch.manual_seed(1)
    searched = MODELS.build(classifier(da_only))
    for m in searched.modules():
        if isinstance(m, ChannelWindowAttention):
            with torch.no_grad():
                m.out_proj.norm.weight.fill_(1.0)
                m.s_int.fill_(3)
                m.l_int.fill_(m.in_channels // 2)
                m.s_dec.zero_()
                m.l_dec.zero_()
    arch = json.loads(json.dumps(export_architecture(searched)))
    retrained = MODELS.build(classifier(da_only))
    retrained.backbone = build_searched_backbone(
        copy.deepcopy(da_only), arch=arch)
    state = {
        k: v
        for k, v in searched.state_dict().items()
        if not k.endswith(('s_dec', 'l_dec', 's_int', 'l_int'))
    }
    retrained.load_state_dict(state, strict=True)
    searched.eval()
    retrained.eval()
    x = torch.randn(2, 3, 16, 16)
    torch.testing.assert_close(
        retrained.extract_feat(x)[0],
        searched.extract_feat(x)[0])


def test_searched_backbone_errors():
    with pytest.raises(ValueError, match='exactly one'):
        build_searched_backbone(copy.deepcopy(DA_BACKBONE))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build_searched_backbone(
            copy.deepcopy(DA_BACKBONE), arch_file='/nonexistent/arch.json')
    with pytest.raises(ValueError, match='mmattn architecture'):
        build_searched_backbone(
            copy.deepcopy(DA_BACKBONE), arch=dict(format='other'))


def test_collect_arch_parameters_deduplicates_shared_alpha():
    model, _ = build_search()
    params = collect_arch_parameters(model)
    assert len(params) == len({id(p) for p in params})
