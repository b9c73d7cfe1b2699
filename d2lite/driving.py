"""A small driving simulator for section 5.3: a kinematic bicycle on a closed road, seen from above.

It is a deliberate simplification of a real car: no tyre slip, no mass or inertia, no other traffic,
a flat road of constant width, and a clean top-down picture of the road instead of a camera. It keeps
what behaviour cloning needs: steering changes where the car goes, small errors build up over time,
and a picture of the road in front of the car is enough to steer by.

A state is an array (..., 4) of x, y (metres, the middle of the rear axle), heading θ (radians,
counter-clockwise from the x axis, not wrapped) and speed v (m/s). Everything is deterministic: the
only randomness is a seed that shapes the track, and noise that the caller passes in.
"""
from dataclasses import dataclass

import numpy as np

ROAD, LINE = 0.5, 1.0            # pixel values of the road surface and of its centre line (grass is 0)


def bicycle_step(state, steer, accel, dt, wheelbase, max_steer):
    """One explicit Euler step of the kinematic bicycle model, every update from the old state.

    x += v cos θ dt,  y += v sin θ dt,  θ += v tan(δ) / L dt,  v = max(v + a dt, 0),
    with the steering angle δ first clipped to [-max_steer, max_steer]. Returns a new array.
    """
    state = np.asarray(state, dtype=float)
    x, y, heading, speed = np.moveaxis(state, -1, 0)
    delta = np.clip(steer, -max_steer, max_steer)
    return np.stack([x + speed * np.cos(heading) * dt,
                     y + speed * np.sin(heading) * dt,
                     heading + speed * np.tan(delta) / wheelbase * dt,
                     np.maximum(speed + accel * dt, 0.0)], axis=-1)


def wrap_angle(a):
    """Angles mapped into [-π, π)."""
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


class Track:
    """A closed road: its centre line `centre` (M, 2), sampled evenly (at most 0.5 m apart), and a half width.

    `Track.loop(seed)` draws a smooth random loop. The road is also kept as a raster (`image`, one pixel
    every `resolution` metres) from which `render` samples the views.
    """

    def __init__(self, centre, half_width=2.0, resolution=0.25):
        centre = np.asarray(centre, dtype=float)
        if centre.ndim != 2 or centre.shape[1] != 2 or len(centre) < 8:
            raise ValueError(f"centre must be an (M, 2) array of at least 8 points around the loop, got shape {centre.shape}")
        self.centre, self.half_width, self.resolution = centre, float(half_width), float(resolution)
        forward = np.roll(centre, -1, axis=0) - centre
        seg = np.linalg.norm(forward, axis=1)
        if seg.max() > 0.5 or seg.max() > 2 * seg.min():
            raise ValueError(f"the centre line's points must be evenly spaced and at most 0.5 m apart (they are "
                             f"{seg.min():.3g} to {seg.max():.3g} m apart): resample it, as Track.loop does")
        self.s = np.concatenate([[0.0], np.cumsum(seg)[:-1]])     # arc length at each point
        self.length = float(seg.sum())
        self.spacing = self.length / len(centre)
        tangent = np.roll(centre, -1, axis=0) - np.roll(centre, 1, axis=0)
        self.direction = np.arctan2(tangent[:, 1], tangent[:, 0])  # heading of the road at each point
        self._squares = (centre ** 2).sum(1)
        self._rasterize()

    @classmethod
    def loop(cls, seed=0, radius=30.0, wobble=0.5, half_width=2.0, spacing=0.2, resolution=0.25):
        """A smooth random loop: r(φ) = radius (1 + Σ_k a_k cos(kφ + p_k)), k = 2, 3, 4, a_k uniform in ±2 wobble / k²."""
        rng = np.random.default_rng(seed)
        k = np.arange(2, 5)
        amplitude = rng.uniform(-1, 1, size=3) * wobble * 2 / k ** 2
        phase = rng.uniform(0, 2 * np.pi, size=3)
        phi = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
        r = radius * (1 + (amplitude[:, None] * np.cos(k[:, None] * phi + phase[:, None])).sum(0))
        dense = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)
        # resample at equal arc-length steps, so that a point's index says how far along the road it is
        seg = np.linalg.norm(np.roll(dense, -1, axis=0) - dense, axis=1)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        closed = np.vstack([dense, dense[:1]])
        even = np.linspace(0, s[-1], int(round(s[-1] / spacing)), endpoint=False)
        centre = np.stack([np.interp(even, s, closed[:, 0]), np.interp(even, s, closed[:, 1])], axis=1)
        return cls(centre, half_width, resolution)

    def curvature(self):
        """Signed curvature 1/R of the centre line at each point (positive when it turns left)."""
        turn = wrap_angle(np.roll(self.direction, -1) - np.roll(self.direction, 1))
        return turn / (2 * self.spacing)

    def _rasterize(self):
        """The road as an image: the distance from each pixel to the nearest centre point, then its value."""
        res, reach = self.resolution, self.half_width + 1.0
        self.origin = self.centre.min(axis=0) - reach - 1.0
        shape = np.ceil((self.centre.max(axis=0) + reach + 1.0 - self.origin) / res).astype(int)[::-1]   # (rows, cols)
        distance = np.full(shape, np.inf)
        r = int(np.ceil(reach / res))
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        col0, row0 = np.floor((self.centre - self.origin) / res).astype(int).T
        cols, rows = col0[:, None] + dx.ravel(), row0[:, None] + dy.ravel()      # (M, disc) pixels near each point
        pixel_xy = np.stack([cols, rows], axis=-1) * res + res / 2 + self.origin
        d = np.linalg.norm(pixel_xy - self.centre[:, None, :], axis=-1)
        np.minimum.at(distance, (rows.ravel(), cols.ravel()), d.ravel())
        self.image = np.where(distance <= self.half_width, ROAD, 0.0).astype(np.float32)
        self.image[distance <= 0.3] = LINE

    def nearest(self, xy):
        """Index of the centre point nearest to each position in `xy` (..., 2)."""
        xy = np.asarray(xy, dtype=float)
        return (self._squares - 2 * xy @ self.centre.T).argmin(-1)    # |c|² − 2 c·p: |p − c|² up to |p|²

    def point_at(self, s):
        """The centre line's position at arc length `s` (any shape; taken modulo the length), interpolated."""
        position = np.asarray(s, dtype=float) % self.length / self.spacing
        i = np.floor(position).astype(int) % len(self.centre)
        t = (position - np.floor(position))[..., None]
        return (1 - t) * self.centre[i] + t * self.centre[(i + 1) % len(self.centre)]

    def errors(self, state):
        """(lateral, heading, s): signed distance to the centre line (left of the road's direction is
        positive, metres), heading minus the road's direction (wrapped, radians), and arc length s."""
        state = np.asarray(state, dtype=float)
        i = self.nearest(state[..., :2])
        normal = np.stack([-np.sin(self.direction[i]), np.cos(self.direction[i])], axis=-1)
        lateral = ((state[..., :2] - self.centre[i]) * normal).sum(-1)
        return lateral, wrap_angle(state[..., 2] - self.direction[i]), self.s[i]

    def start(self, s, offset=0.0, heading=0.0, speed=8.0):
        """States (N, 4) at arc lengths `s`, `offset` metres left of the centre line, `heading` radians off the road's direction."""
        s, offset, heading = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (s, offset, heading)))
        i = np.rint(s % self.length / self.spacing).astype(int) % len(self.centre)
        normal = np.stack([-np.sin(self.direction[i]), np.cos(self.direction[i])], axis=-1)
        xy = self.centre[i] + offset[:, None] * normal
        return np.column_stack([xy, self.direction[i] + heading, np.full(len(s), float(speed))])

    def render(self, state, size=32, ahead=16.0, side=8.0, supersample=1):
        """Top-down views (N, size, size), float32 in [0, 1], one per state (N, 4): the car sits at the middle
        of the bottom edge looking up; the view covers `ahead` metres forward and `side` metres to each side."""
        state = np.atleast_2d(np.asarray(state, dtype=float))
        n = size * supersample
        forward = ahead * (n - 0.5 - np.arange(n)) / n                  # rows: far at the top
        left = side * (1 - 2 * (np.arange(n) + 0.5) / n)                  # columns: left side first
        f, l = np.meshgrid(forward, left, indexing="ij")
        c, s = np.cos(state[:, 2])[:, None, None], np.sin(state[:, 2])[:, None, None]
        x = (state[:, 0, None, None] - self.origin[0] + f * c - l * s) / self.resolution
        y = (state[:, 1, None, None] - self.origin[1] + f * s + l * c) / self.resolution
        rows, cols = y.astype(int), x.astype(int)          # (truncation is floor here: outside pixels are masked)
        height, width = self.image.shape
        inside = (y >= 0) & (rows < height) & (x >= 0) & (cols < width)
        views = np.where(inside, self.image.ravel()[(rows.clip(0, height - 1) * width + cols.clip(0, width - 1))], 0.0)
        if supersample > 1:
            views = views.reshape(len(state), size, supersample, size, supersample).mean(axis=(2, 4))
        return views.astype(np.float32)


@dataclass
class Car:
    """The car's constants: time step (s), wheelbase (m), steering limit (rad), cruising speed (m/s), speed gain (1/s)."""
    dt: float = 0.1
    wheelbase: float = 2.5
    max_steer: float = 0.5
    speed: float = 8.0
    speed_gain: float = 1.0

    def step(self, state, steer):
        """One step with steering `steer` (N,); the accelerator holds the cruising speed (a = gain · (v* − v))."""
        accel = self.speed_gain * (self.speed - state[:, 3])
        return bicycle_step(state, steer, accel, self.dt, self.wheelbase, self.max_steer)


class PurePursuit:
    """The expert: steer the rear axle along the circle through a centre-line point `lookahead` metres ahead.

    With that point at angle α from the heading and distance ℓ, the circle's curvature is 2 sin α / ℓ,
    hence δ = atan(2 L sin α / ℓ) (Coulter, 1992).
    """

    def __init__(self, track, car, lookahead=5.0):
        self.track, self.car, self.lookahead = track, car, lookahead

    def __call__(self, state):
        _, _, s = self.track.errors(state)
        target = self.track.point_at(s + self.lookahead) - state[:, :2]
        alpha = wrap_angle(np.arctan2(target[:, 1], target[:, 0]) - state[:, 2])
        distance = np.linalg.norm(target, axis=1)
        return np.arctan(2 * self.car.wheelbase * np.sin(alpha) / distance)


@dataclass
class Drive:
    """What `drive` recorded: states (T+1, N, 4), steering (T, N), lateral errors and progress (T+1, N) along the
    road in metres, `alive` (T+1, N) while the car is on the road, and per car whether it left the road and
    whether it completed a lap."""
    states: np.ndarray
    steer: np.ndarray
    lateral: np.ndarray
    progress: np.ndarray
    alive: np.ndarray
    crashed: np.ndarray
    lap: np.ndarray

    def mean_abs_lateral(self):
        """Mean |lateral error| (m) over every step that a car spent on the road."""
        return float(np.abs(self.lateral)[self.alive].mean())

    def lap_fraction(self):
        return float(self.lap.mean())

    def visited(self):
        """The states (K, 4) at which the cars were on the road and had to steer."""
        return self.states[:-1][self.alive[:-1]]


def drive(track, car, policy, start, steps, steer_noise=0.0, seed=0):
    """Drive cars from `start` (N, 4) for `steps` steps with `policy(states) -> steering (N,)`.

    Gaussian noise of standard deviation `steer_noise` (rad) is added to each steering command (a
    disturbance the policy must correct). A car that leaves the road (|lateral| > half width) stops
    there; a car whose progress along the road reaches one lap stops too, with `lap` True.
    """
    rng = np.random.default_rng(seed)
    state = np.asarray(start, dtype=float).copy()
    n = len(state)
    lateral, _, s = track.errors(state)
    states, steers, laterals, progress, alive = [state], [], [lateral], [np.zeros(n)], [np.ones(n, bool)]
    running = np.ones(n, bool)
    lap = np.zeros(n, bool)
    for _ in range(steps):
        steer = np.asarray(policy(state), dtype=float) + steer_noise * rng.standard_normal(n)
        new = np.where(running[:, None], car.step(state, steer), state)
        lateral, _, new_s = track.errors(new)
        moved = (new_s - s + track.length / 2) % track.length - track.length / 2
        done = progress[-1] + np.where(running, moved, 0.0)
        lap |= running & (done >= track.length)
        running &= (np.abs(lateral) <= track.half_width) & ~lap
        state, s = new, new_s
        states.append(state)
        steers.append(np.where(alive[-1], steer, 0.0))
        laterals.append(lateral)
        progress.append(done)
        alive.append(running.copy())
    alive = np.array(alive)
    crashed = ~alive[-1] & ~lap
    return Drive(np.array(states), np.array(steers), np.array(laterals), np.array(progress), alive, crashed, lap)
