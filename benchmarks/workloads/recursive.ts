// A recursive function: sum over a 127-node binary tree (255 calls per operation, nulls
// included).

interface TreeNode {
  value: number;
  left: TreeNode | null;
  right: TreeNode | null;
}

function build(depth: number, seed: number): TreeNode | null {
  if (depth === 0) return null;
  return { value: seed % 17, left: build(depth - 1, seed * 2 + 1), right: build(depth - 1, seed * 3 + 2) };
}

const TREE = build(7, 1);

export function sumTree(node: TreeNode | null, depth: number): number {
  if (node === null) return 0;
  const here = node.value * depth;
  return here + sumTree(node.left, depth + 1) + sumTree(node.right, depth + 1);
}

export function op(i: number): number {
  return sumTree(TREE, 1 + (i & 3));
}
