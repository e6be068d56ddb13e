// Class-heavy code: small value classes with getters and methods, stepped by a world object.
// 16 bodies per world; one `tick` per operation.

export class Vec {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}

  get length(): number {
    return Math.sqrt(this.x * this.x + this.y * this.y);
  }

  add(o: Vec): Vec {
    return new Vec(this.x + o.x, this.y + o.y);
  }

  scale(k: number): Vec {
    return new Vec(this.x * k, this.y * k);
  }
}

export class Body {
  private pos: Vec;
  private vel: Vec;

  constructor(pos: Vec, vel: Vec) {
    this.pos = pos;
    this.vel = vel;
  }

  get speed(): number {
    return this.vel.length;
  }

  step(dt: number): void {
    const dv = this.vel.scale(dt);
    const next = this.pos.add(dv);
    this.pos = next;
  }
}

export class World {
  private readonly bodies: Body[] = [];

  constructor(count: number) {
    for (let k = 0; k < count; k++) this.bodies.push(new Body(new Vec(k, -k), new Vec(1 + (k % 3), 2 - (k % 5))));
  }

  tick(dt: number): void {
    for (const b of this.bodies) b.step(dt);
  }

  get energy(): number {
    let e = 0;
    for (const b of this.bodies) e += b.speed * b.speed;
    return e;
  }
}

const world = new World(16);

export function op(i: number): number {
  world.tick((i & 7) / 1000);
  return world.energy;
}
