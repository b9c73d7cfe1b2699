"""The driving simulator of section 5.3: the bicycle model, the track, the views, the expert and a drive."""
import numpy as np
import pytest

from d2lite import driving as D


@pytest.fixture(scope="module")
def track():
    return D.Track.loop(0)


def test_bicycle_step_goes_straight_and_accelerates():
    state = np.array([[1.0, 2.0, np.pi / 2, 4.0]])
    new = D.bicycle_step(state, np.array([0.0]), np.array([1.5]), 0.5, 2.5, 0.5)
    np.testing.assert_allclose(new, [[1.0, 4.0, np.pi / 2, 4.75]], atol=1e-12)
    np.testing.assert_array_equal(state, [[1.0, 2.0, np.pi / 2, 4.0]])       # the input is left alone


def test_constant_steering_drives_a_circle_of_radius_wheelbase_over_tan_delta():
    L, delta, state = 2.5, 0.3, np.array([[0.0, 0.0, 0.0, 5.0]])
    radius = L / np.tan(delta)
    path = [state]
    for _ in range(2000):
        path.append(D.bicycle_step(path[-1], np.array([delta]), np.array([0.0]), 0.001, L, 0.5))
    xy = np.concatenate(path)[:, :2]
    centre = np.array([0.0, radius])                    # a left turn from the origin facing +x
    np.testing.assert_allclose(np.linalg.norm(xy - centre, axis=1), radius, rtol=2e-3)


def test_steering_is_clipped_and_speed_never_negative():
    state = np.array([[0.0, 0.0, 0.2, 3.0], [5.0, -1.0, -1.0, 1.0]])
    clipped = D.bicycle_step(state, np.array([2.0, -3.0]), np.array([0.0, -50.0]), 0.1, 3.0, 0.4)
    limited = D.bicycle_step(state, np.array([0.4, -0.4]), np.array([0.0, -50.0]), 0.1, 3.0, 0.4)
    np.testing.assert_array_equal(clipped, limited)
    assert clipped[1, 3] == 0.0 and clipped[0, 3] == 3.0


def test_a_loop_is_seeded_closed_and_evenly_sampled(track):
    again, other = D.Track.loop(0), D.Track.loop(1)
    np.testing.assert_array_equal(track.centre, again.centre)
    assert not np.allclose(track.centre[:50], other.centre[:50])
    steps = np.linalg.norm(np.roll(track.centre, -1, axis=0) - track.centre, axis=1)
    np.testing.assert_allclose(steps, track.spacing, rtol=0.05)            # includes the step that closes the loop
    car = D.Car()
    assert np.arctan(car.wheelbase * np.abs(track.curvature())).max() < car.max_steer / 2   # well within the steering limit


def test_errors_recover_the_offset_and_heading_of_a_start(track):
    s = np.array([0.0, 40.0, 111.3, track.length - 1.0])
    start = track.start(s, offset=[0.5, -1.2, 0.0, 1.9], heading=[0.1, -0.2, 0.0, 3.0], speed=6.0)
    lateral, heading, at = track.errors(start)
    np.testing.assert_allclose(lateral, [0.5, -1.2, 0.0, 1.9], atol=0.03)
    np.testing.assert_allclose(heading, [0.1, -0.2, 0.0, 3.0], atol=1e-9)
    np.testing.assert_allclose(at, s, atol=track.spacing)
    assert (start[:, 3] == 6.0).all()
    np.testing.assert_allclose(track.point_at(track.s[[0, 7, 300]] + track.length), track.centre[[0, 7, 300]], atol=1e-3)


def test_render_sees_the_centre_line_ahead_and_moves_it_with_the_car(track):
    centred, left = track.start([20.0, 20.0], offset=[0.0, 1.5])
    views = track.render(np.stack([centred, left]), size=32)
    assert views.shape == (2, 32, 32) and views.dtype == np.float32
    bottom = views[:, -4:]                               # the rows just ahead of the car
    assert (bottom[0, :, 15:17] == D.LINE).any()           # the line under a centred car
    assert (bottom[0, :, :2] == 0).all() and (bottom[0, :, -2:] == 0).all()   # grass beyond the road on both sides
    line_column = np.flatnonzero((bottom[1] == D.LINE).any(axis=0)).mean()
    assert line_column > 17                              # a car left of the centre sees the line on its right
    np.testing.assert_array_equal(track.render(left[None]), track.render(left[None]))


def test_the_expert_completes_laps_on_several_tracks():
    car = D.Car()
    for seed in range(3):
        track = D.Track.loop(seed)
        start = track.start([0.0, track.length / 2], offset=[0.8, -0.8])
        run = D.drive(track, car, D.PurePursuit(track, car), start, steps=300, steer_noise=0.05, seed=seed)
        assert run.lap.all() and not run.crashed.any()
        assert np.abs(run.lateral[run.alive]).max() < 1.0 and run.mean_abs_lateral() < 0.3


def test_a_car_that_leaves_the_road_stops_there(track):
    car, expert = D.Car(), D.PurePursuit(track, D.Car())

    def hard_left_then_expert(state):                  # the first car steers hard left, the second follows the road
        return np.array([0.5, expert(state)[1]])

    run = D.drive(track, car, hard_left_then_expert, track.start([0.0, 50.0]), steps=40)
    assert run.crashed.tolist() == [True, False] and not run.lap.any()
    last = run.alive[:, 0].sum()                          # steps the first car spent on the road
    assert np.abs(run.lateral[last, 0]) > track.half_width
    assert (run.states[last:, 0] == run.states[last, 0]).all()
    assert (run.steer[:last, 0] == 0.5).all() and (run.steer[last:, 0] == 0).all()   # recorded while on the road
    assert run.visited().shape == (last + 40, 4)
    assert run.progress[-1, 1] == pytest.approx(40 * car.speed * car.dt, rel=0.02)


def test_a_malformed_centre_line_is_refused():
    with pytest.raises(ValueError, match=r"\(M, 2\) array"):
        D.Track(np.zeros((10, 3)))
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    with pytest.raises(ValueError, match="evenly spaced and at most 0.5 m apart"):
        D.Track(10 * np.column_stack([np.cos(angles), np.sin(angles)]))
