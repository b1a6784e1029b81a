"""Placing scanlines on a regular depth axis."""

import numpy as np
import pytest

from ingest.axis import DuplicateDepthError, IrregularStepError, depth_axis_from_depths


def test_axis_sample_like_decimal_steps():
    depth = np.round(9000.1 + 0.1 * np.arange(5460), 1)
    axis = depth_axis_from_depths(depth)
    assert axis.rows == 5460
    assert axis.depth_min == 9000.1
    assert axis.depth_max == pytest.approx(9546.0, abs=1e-9)
    assert axis.depth_step == pytest.approx(0.1, rel=1e-9)
    np.testing.assert_array_equal(axis.row_of_scanline, np.arange(5460))


def test_axis_sorts_unsorted_scanlines():
    axis = depth_axis_from_depths(np.array([3.0, 1.0, 2.0]))
    assert axis.row_of_scanline.tolist() == [2, 0, 1]
    assert axis.source_rows().tolist() == [1, 2, 0]


def test_axis_gap_leaves_nodata_rows():
    axis = depth_axis_from_depths(np.array([1.0, 1.5, 2.0, 3.5, 4.0]))
    assert axis.rows == 7
    assert axis.source_rows().tolist() == [0, 1, 2, -1, -1, 3, 4]


def test_axis_duplicate_names_both_scanlines():
    with pytest.raises(DuplicateDepthError) as info:
        depth_axis_from_depths(np.array([1.0, 1.1, 1.2, 1.1]))
    assert sorted(info.value.indices) == [1, 3]


def test_axis_irregular_step_is_refused():
    with pytest.raises(IrregularStepError):
        depth_axis_from_depths(np.array([1.0, 1.1, 1.2, 1.33, 1.4, 1.5]))


def test_axis_single_scanline():
    axis = depth_axis_from_depths(np.array([12.5]))
    assert (axis.rows, axis.depth_min, axis.depth_max) == (1, 12.5, 12.5)
