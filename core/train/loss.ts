// Runs in: a training worker. The training loss: 1 - MCDice, the soft Dice of each foreground class
// averaged over the foreground classes (method.md section 0), each class's Dice taken over the whole
// batch as the reference's batch Dice: (2 sum(y p) + 0.5) / (sum(y^2) + sum(p^2) + 0.5). The tensors are
// reshaped to [voxels, channels] first: reducing over four axes of a 5-D tensor is far slower in tfjs.
import * as tf from '@tensorflow/tfjs-core';

export const DICE_SMOOTH = 0.5;

/**
 * yTrue and yPred are [batch, d1, d2, d3, channels]. With a softmax head channel 0 is background and is
 * left out of the mean; with a sigmoid head every channel is a foreground class.
 */
export function softDiceLoss(yTrue: tf.Tensor, yPred: tf.Tensor, head: 'softmax' | 'sigmoid'): tf.Scalar {
  return tf.tidy(() => {
    const channels = yPred.shape[yPred.rank - 1] as number;
    const p = tf.reshape(yPred, [-1, channels]);
    const y = tf.reshape(yTrue, [-1, channels]);
    const intersection = tf.sum(tf.mul(y, p), 0);
    const denominator = tf.add(tf.sum(tf.square(y), 0), tf.sum(tf.square(p), 0));
    const dice = tf.div(tf.add(tf.mul(intersection, 2), DICE_SMOOTH), tf.add(denominator, DICE_SMOOTH));
    const first = head === 'softmax' ? 1 : 0;
    const foreground = tf.slice(dice, [first], [channels - first]);
    return tf.sub(1, tf.mean(foreground)) as tf.Scalar;
  });
}
