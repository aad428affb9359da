from .arch_plots import (WINDOW_TABLE_HEADER, collect_genotypes,
                         collect_window_stats, fbnet_arch_from_model,
                         fbnet_blocks, format_markdown_table,
                         plot_channel_windows, plot_fbnet_channels,
                         plot_genotype, plot_table, plot_window_feature_map,
                         plot_window_length_histograms, window_lengths,
                         window_stats_from_architecture, window_stats_table)
from .attention_maps import (capture_inputs, csa_full_attention,
                             csa_reconstructed_attention, dominant_base,
                             find_modules, pick_samples, pixel_indices,
                             stra_mode_maps, upsample_maps)
from .feature_projection import (Projection, fisher_score, lda_tsne,
                                 plot_projection)
from .grad_cam import (TARGETS, GradCAM, feature_norm_target, overlay_heatmap,
                       top_logit_target)
from .image_writer import ImageWriter, add_tool_arguments, figure_to_image
from .rank_grid import (MATCH_COLOR, MISMATCH_COLOR, QUERY_COLOR,
                        RankGridLayout, RankList, draw_rank_grid, rank_gallery,
                        rank_grid_rows)

__all__ = [
    'ImageWriter', 'add_tool_arguments', 'figure_to_image', 'RankList',
    'RankGridLayout', 'rank_gallery', 'draw_rank_grid', 'rank_grid_rows',
    'MATCH_COLOR', 'MISMATCH_COLOR', 'QUERY_COLOR', 'GradCAM', 'TARGETS',
    'feature_norm_target', 'top_logit_target', 'overlay_heatmap', 'Projection',
    'fisher_score', 'lda_tsne', 'plot_projection', 'collect_window_stats',
    'plot_channel_windows', 'plot_window_feature_map', 'window_lengths',
    'plot_window_length_histograms', 'WINDOW_TABLE_HEADER',
    'window_stats_table', 'window_stats_from_architecture',
    'format_markdown_table', 'plot_table', 'collect_genotypes',
    'plot_genotype', 'fbnet_blocks', 'fbnet_arch_from_model',
    'plot_fbnet_channels', 'find_modules', 'capture_inputs', 'pixel_indices',
    'csa_reconstructed_attention', 'csa_full_attention', 'stra_mode_maps',
    'upsample_maps', 'pick_samples', 'dominant_base'
]
